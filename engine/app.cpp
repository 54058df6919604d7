#include "engine/app.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/cli.hpp"
#include "engine/log.hpp"

namespace continuo {
namespace {

std::filesystem::path executable_dir() {
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : exe.parent_path();
}

// The config used without --config: the source tree's (build/continuo), then the installed
// one (/usr/local/bin/continuo); none found means the built-in defaults.
std::string default_config_path() {
  const auto dir = executable_dir();
  for (const auto& candidate : {dir / "../configs/default.toml", dir / "../share/continuo/configs/default.toml"}) {
    if (std::filesystem::exists(candidate)) return std::filesystem::weakly_canonical(candidate).string();
  }
  return {};
}

Config load_invocation_config(const Invocation& invocation) {
  return load_config(invocation.config_path.value_or(default_config_path()), invocation.overrides);
}

int dispatch(const Invocation& invocation, const ModelRegistry& registry) {
  if (invocation.command == Command::help || invocation.help) {
    std::fputs(usage(invocation.command).c_str(), stdout);
    if (invocation.command == Command::help) std::printf("\nmodels:\n%s", registry.describe().c_str());
    return 0;
  }
  const Config config = load_invocation_config(invocation);
  set_log_level(config.log_level);
  log_info("config: ", config.path);
  log_debug("config values in force:\n", describe_config(config));
  if (invocation.command == Command::render) {
    return render_offline(config, registry, invocation);
  }
  if (invocation.command == Command::replay) return replay_take(config, registry, invocation);
  return run_live(config, registry, [&invocation] { return load_invocation_config(invocation); });
}

// A session manager starts its clients without arguments (NSM_URL set): that means run.
std::vector<std::string> command_line(const std::vector<std::string>& args) {
  const char* nsm_url = std::getenv("NSM_URL");
  if (args.empty() && nsm_url != nullptr && *nsm_url != '\0') return {"run"};
  return args;
}

}  // namespace

int app_main(const std::vector<std::string>& args, const ModelRegistry& registry) {
  try {
    return dispatch(parse_command_line(command_line(args)), registry);
  } catch (const UsageError& error) {
    std::fprintf(stderr, "continuo: %s\n", error.what());
    return kExitUsage;
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return kExitUsage;
  } catch (const BackendUnavailable& error) {
    log_error("model: ", error.what());
    return kExitUsage;
  } catch (const ModelError& error) {
    log_error("model: ", error.what());
    return kExitFailure;
  } catch (const std::exception& error) {
    log_error(error.what());
    return kExitFailure;
  }
}

}  // namespace continuo
