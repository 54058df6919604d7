#include "engine/config_reload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace continuo {
namespace {

using Keys = std::vector<std::string>;

TEST(ConfigReload, SortsChangedKeysIntoLiveAndRestart) {
  const Config started;
  Config next = started;
  next.control.temperature = 0.5f;
  next.engine.volume_db = -6;
  next.presets.emplace_back().name = "calm";
  next.log_level = LogLevel::debug;
  next.jack.client_name = "other";
  next.engine.lookahead_ms = 400;
  next.osc.port = 9100;
  next.model.spec = "tiny";  // neither: the caller swaps the model
  next.midi.cc_map.pop_back();
  next.midi.channel = 3;
  const ReloadPlan plan = plan_reload(started, started, next);
  EXPECT_EQ(plan.live, (Keys{"engine.volume_db", "control.temperature", "midi.cc_map", "log.level", "presets"}));
  EXPECT_EQ(plan.restart, (Keys{"jack.client_name", "engine.lookahead_ms", "midi.channel", "osc.port"}));
}

// A restart-only key stays reported until the engine restarts; a live key only once.
TEST(ConfigReload, RestartKeysCompareWithTheStartLiveKeysWithTheLastReload) {
  const Config started;
  Config applied = started;
  applied.jack.client_name = "other";
  applied.control.top_k = 7;
  const ReloadPlan again = plan_reload(started, applied, applied);
  EXPECT_TRUE(again.live.empty());
  EXPECT_EQ(again.restart, (Keys{"jack.client_name"}));
  EXPECT_TRUE(plan_reload(started, applied, started).restart.empty());  // put back as it runs
}

TEST(ConfigReload, ChangedControlsCarryOnlyWhatChanged) {
  ControlSnapshot before;
  ControlSnapshot after = before;
  after.cfg_notes = 2.0f;
  after.style_tokens[4] = 99;
  after.seed = 5;  // not a preset's: the caller sets it
  const Preset changes = changed_controls(before, after);
  EXPECT_EQ(changes.cfg_notes, 2.0f);
  ASSERT_TRUE(changes.style_tokens);
  EXPECT_EQ((*changes.style_tokens)[4], 99);
  EXPECT_FALSE(changes.temperature || changes.top_k || changes.cfg_style || changes.cfg_drums || changes.drums ||
               changes.onset_mode || changes.prompts);
}

}  // namespace
}  // namespace continuo
