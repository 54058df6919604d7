#include "engine/config_reload.hpp"

namespace continuo {
namespace {

bool applies_live(std::string_view key) {
  return key.starts_with("control.") || key == "engine.volume_db" || key == "presets" || key == "log.level" ||
         key == "midi.cc_map";
}

}  // namespace

ReloadPlan plan_reload(const Config& started, const Config& applied, const Config& next) {
  ReloadPlan plan;
  for (const std::string& key : changed_keys(applied, next)) {
    if (applies_live(key)) plan.live.push_back(key);
  }
  for (const std::string& key : changed_keys(started, next)) {
    if (!applies_live(key) && !key.starts_with("model.")) plan.restart.push_back(key);
  }
  return plan;
}

Preset changed_controls(const ControlSnapshot& applied, const ControlSnapshot& next) {
  Preset changes;
  changes.name = "config reload";
  const auto take = [](auto& slot, const auto& before, const auto& after) {
    if (before != after) slot = after;
  };
  take(changes.style_tokens, applied.style_tokens, next.style_tokens);
  take(changes.temperature, applied.temperature, next.temperature);
  take(changes.top_k, applied.top_k, next.top_k);
  take(changes.cfg_style, applied.cfg_style, next.cfg_style);
  take(changes.cfg_notes, applied.cfg_notes, next.cfg_notes);
  take(changes.cfg_drums, applied.cfg_drums, next.cfg_drums);
  take(changes.drums, applied.drums, next.drums);
  take(changes.onset_mode, applied.onset_mode, next.onset_mode);
  return changes;
}

}  // namespace continuo
