#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/config.hpp"
#include "engine/model_registry.hpp"

namespace continuo {

// Exit codes: 0 done, 1 something failed at run time, 2 the command line or config is wrong.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int app_main(const std::vector<std::string>& args, const ModelRegistry& registry);

// reload: the config read again as at start (SIGHUP); throws ConfigError.
int run_live(const Config& config, const ModelRegistry& registry, const std::function<Config()>& reload);
struct Invocation;
int render_offline(const Config& config, const ModelRegistry& registry, const Invocation& invocation);
int replay_take(const Config& config, const ModelRegistry& registry, const Invocation& invocation);

}  // namespace continuo
