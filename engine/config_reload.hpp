#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/config.hpp"
#include "engine/preset.hpp"

namespace continuo {

// A config reload (SIGHUP): the file given at start is read again with the same --set
// overrides, and what changed is sorted by what the running engine can do with it.
struct ReloadPlan {
  std::vector<std::string> live;     // [control], engine.volume_db, presets, log.level, midi.cc_map: applied now
  std::vector<std::string> restart;  // every other key that differs from the values in force since start
  // model.* keys are neither: the caller loads the model again (ModelSwap) when next's
  // [model] differs from the playing model's.
};

// applied: the config last applied (the start's, or the last reload's); started: the one
// the engine started with, which restart-only keys still hold.
ReloadPlan plan_reload(const Config& started, const Config& applied, const Config& next);

// The [control] values that differ from applied to next, as one preset (recalled at one
// frame boundary); control.seed, which presets do not carry, is left to the caller.
Preset changed_controls(const ControlSnapshot& applied, const ControlSnapshot& next);

}  // namespace continuo
