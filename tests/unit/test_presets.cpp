// Presets ([[presets]] in the config): parsing, recall at one version, MIDI program
// change and /continuo/preset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "engine/config.hpp"
#include "engine/controls.hpp"
#include "midi/controls_sink.hpp"
#include "midi/midi_input.hpp"
#include "osc/address_map.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;

class PresetConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("continuo_test_presets_" + std::to_string(::getpid()) + "_" + info->name() + ".toml");
  }
  void TearDown() override { fs::remove(path_); }

  Config load(const std::string& text) {
    std::ofstream(path_) << text;
    return load_config(path_.string(), {});
  }

  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "";
  }

  std::string at(int line) const { return path_.string() + ":" + std::to_string(line) + ": "; }

  fs::path path_;
};

TEST_F(PresetConfig, ReadsEveryKeyAndLeavesOutTheRest) {
  const Config c = load(R"([[presets]]
name = "calm"
program = 3
style_tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1]
temperature = 0.8
top_k = 20
cfg_style = 2.5
cfg_notes = -1
cfg_drums = 7
drums = 0

[[presets]]
name = "wild"
temperature = 2
)");
  ASSERT_EQ(c.presets.size(), 2u);
  const Preset& calm = c.presets[0];
  EXPECT_EQ(calm.name, "calm");
  EXPECT_EQ(calm.program, 3);
  EXPECT_EQ(calm.style_tokens, (std::array<int, kStyleTokens>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1}));
  EXPECT_EQ(calm.temperature, 0.8f);
  EXPECT_EQ(calm.top_k, 20);
  EXPECT_EQ(calm.cfg_style, 2.5f);
  EXPECT_EQ(calm.cfg_notes, -1.0f);
  EXPECT_EQ(calm.cfg_drums, 7.0f);
  EXPECT_EQ(calm.drums, 0);
  const Preset& wild = c.presets[1];
  EXPECT_EQ(wild.name, "wild");
  EXPECT_FALSE(wild.program);
  EXPECT_FALSE(wild.top_k);
  EXPECT_FALSE(wild.style_tokens);
  EXPECT_EQ(wild.temperature, 2.0f);
  // Inline tables work too, and describe_config shows them on one line.
  const Config inline_form = load("presets = [{name = \"a\", program = 0, top_k = 5}]\n");
  EXPECT_NE(describe_config(inline_form).find("presets = [{name = \"a\", program = 0, top_k = 5}]\n"),
            std::string::npos)
      << describe_config(inline_form);
}

TEST_F(PresetConfig, PromptsAreTextsWithWeights) {
  const Config config = load("[[presets]]\nname = \"a\"\nprompts = [{text = \"warm jazz\"}, {text = \"drums\", weight = 0.5}]\n");
  ASSERT_TRUE(config.presets[0].prompts.has_value());
  EXPECT_EQ(*config.presets[0].prompts, (std::vector<WeightedPrompt>{{"warm jazz", 1.0f}, {"drums", 0.5f}}));
  const std::string p = "[[presets]]\nname = \"a\"\n";
  EXPECT_EQ(error_of(p + "prompts = []\n"),
            at(3) + "presets[0].prompts: must be 1..8 tables such as [{text = \"warm jazz piano\", weight = 1.0}]");
  EXPECT_EQ(error_of(p + "prompts = [{weight = 1.0}]\n"), at(3) + "presets[0].prompts[0]: needs text");
  EXPECT_EQ(error_of(p + "prompts = [{text = \"a\", weight = -1}]\n"),
            at(3) + "presets[0].prompts[0].weight: must be between 0 and 1000");
  EXPECT_EQ(error_of(p + "prompts = [{text = \"a\", colour = 1}]\n"),
            at(3) + "presets[0].prompts[0].colour: unknown key (text, weight)");
  EXPECT_EQ(error_of(p + "prompts = [{text = \"a\"}]\nstyle_tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n"),
            at(1) + "presets[0].prompts: style_tokens and prompts both set the style: keep one");
}

TEST_F(PresetConfig, ErrorsNameFileLineIndexAndKey) {
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\n[[presets]]\nname = \"a\"\n"),
            at(4) + "presets[1].name: duplicate name \"a\" (also presets[0])");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\nprogram = 5\n[[presets]]\nname = \"b\"\nprogram = 5\n"),
            at(6) + "presets[1].program: duplicate program 5 (also presets[0])");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\nprogram = 128\n"),
            at(3) + "presets[0].program: must be between 0 and 127");
  EXPECT_EQ(error_of("[[presets]]\nname = \"\"\n"), at(2) + "presets[0].name: must not be empty");
  EXPECT_EQ(error_of("[[presets]]\nprogram = 1\n"), at(1) + "presets[0]: needs name");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\ntemperature = 0\n"),
            at(3) + "presets[0].temperature: must be greater than 0 and at most 10");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\ntop_k = 2000\n"),
            at(3) + "presets[0].top_k: must be between 1 and 1024");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\ncfg_notes = 7.5\n"),
            at(3) + "presets[0].cfg_notes: must be between -1 and 7");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\ndrums = 2\n"), at(3) + "presets[0].drums: must be between -1 and 1");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\nstyle_tokens = [1, 2]\n"),
            at(3) + "presets[0].style_tokens: must have exactly 12 items");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\nstyle_tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1024]\n"),
            at(3) + "presets[0].style_tokens[11]: must be between -1 and 1023");
  EXPECT_EQ(error_of("[[presets]]\nname = \"a\"\nvolume_db = 1\n"), at(3) + "presets[0].volume_db: unknown key");
  EXPECT_EQ(error_of("presets = 3\n"), at(1) + "presets: must be an array of tables ([[presets]])");
  EXPECT_EQ(error_of("presets = [3]\n"),
            at(1) + "presets[0]: must be a table such as {name = \"calm\", temperature = 0.8}");
}

class PresetRecall : public ::testing::Test {
 protected:
  static std::vector<Preset> presets() {
    Preset calm;
    calm.name = "calm";
    calm.program = 2;
    calm.style_tokens = std::array<int, kStyleTokens>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    calm.temperature = 0.5f;
    calm.top_k = 12;
    calm.cfg_style = 1.5f;
    calm.cfg_notes = 2.5f;
    calm.cfg_drums = 3.5f;
    calm.drums = 0;
    Preset hot;
    hot.name = "hot";
    hot.temperature = 3.0f;
    Preset broken;  // only a Preset built in code can hold an out-of-range value
    broken.name = "broken";
    broken.program = 9;
    broken.temperature = 1.0f;
    broken.top_k = 5000;
    return {calm, hot, broken};
  }

  void expect_calm(const ControlSnapshot& c) {
    EXPECT_EQ(c.style_tokens, (std::array<int, kStyleTokens>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
    EXPECT_EQ(c.temperature, 0.5f);
    EXPECT_EQ(c.top_k, 12);
    EXPECT_EQ(c.cfg_style, 1.5f);
    EXPECT_EQ(c.cfg_notes, 2.5f);
    EXPECT_EQ(c.cfg_drums, 3.5f);
    EXPECT_EQ(c.drums, 0);
  }

  ControlState state_{ControlSnapshot{}};
  AudioRing ring_{1024};
  Playback playback_{ring_, PlaybackConfig{}};
  Controls controls_{state_, playback_, {}, 0.0f, {}, presets()};
};

TEST_F(PresetRecall, AppliesEveryValueAtOneVersion) {
  const std::uint64_t before = state_.snapshot().version;
  EXPECT_EQ(controls_.recall_preset(std::string("calm")), "");
  std::vector<ControlChange> carried;
  const ControlSnapshot frame = state_.take_frame_snapshot(carried);
  EXPECT_EQ(frame.version, before + 1) << "one update, one version";
  ASSERT_EQ(carried.size(), 1u) << "one change for the frame boundary";
  expect_calm(frame);
  EXPECT_EQ(frame.seed, 0u);
}

TEST_F(PresetRecall, LeavesOutWhatThePresetDoesNotSet) {
  ASSERT_EQ(controls_.recall_preset(std::string("calm")), "");
  ASSERT_EQ(controls_.recall_preset(std::string("hot")), "");
  const ControlSnapshot c = state_.snapshot();
  EXPECT_EQ(c.temperature, 3.0f);
  EXPECT_EQ(c.top_k, 12) << "hot sets only temperature";
}

TEST_F(PresetRecall, RefusesUnknownNamesAndBadValuesWithoutAnyChange) {
  EXPECT_EQ(controls_.recall_preset(std::string("nope")), "no preset named \"nope\"");
  EXPECT_EQ(controls_.recall_preset(std::string("broken")),
            "preset \"broken\": top_k must be between 1 and 1024, got 5000");
  EXPECT_EQ(state_.snapshot().version, 0u);
  EXPECT_EQ(state_.snapshot().temperature, ControlSnapshot{}.temperature);
}

TEST_F(PresetRecall, MidiProgramChangeRecallsThePresetWithThatProgram) {
  ControlsSink sink(controls_);
  MidiConfig config;
  config.channel = 1;
  config.cc_map = {{70, MidiParam::temperature, 0.1, 2.5, 7}};
  MidiInput input(sink, config);
  const std::uint8_t other_channel[] = {0xC1, 2};
  input.handle(other_channel, sizeof other_channel);
  EXPECT_EQ(state_.snapshot().version, 0u) << "channel 2 is filtered";
  const std::uint8_t no_preset[] = {0xC0, 7};
  input.handle(no_preset, sizeof no_preset);
  EXPECT_EQ(state_.snapshot().version, 0u);
  const std::uint8_t calm[] = {0xC0, 2};
  input.handle(calm, sizeof calm);
  expect_calm(state_.snapshot());
  EXPECT_EQ(state_.snapshot().version, 1u) << "the whole preset at one version";
  const std::uint8_t broken[] = {0xC0, 9};
  input.handle(broken, sizeof broken);
  EXPECT_EQ(state_.snapshot().version, 1u);
  MidiStats stats = input.stats();
  EXPECT_EQ(stats.filtered, 1u);
  EXPECT_EQ(stats.ignored, 1u) << "program 7 has no preset";
  EXPECT_EQ(stats.presets, 1u);
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_NE(stats.to_json().find("\"presets\":1"), std::string::npos);
  // The knob on temperature must pick the preset's 0.5 up: a jump to the top is ignored.
  const std::uint8_t knob_top[] = {0xB0, 70, 127};
  input.handle(knob_top, sizeof knob_top);
  EXPECT_EQ(state_.snapshot().temperature, 0.5f);
}

// Any change made outside MIDI (an OSC preset, an OSC setter, a control script) makes the
// knobs on that parameter pick up again: nobody has to tell MidiInput.
TEST_F(PresetRecall, KnobsPickUpAgainAfterOscChangesTheirParameter) {
  ControlsSink sink(controls_);
  MidiConfig config;
  config.cc_map = {{70, MidiParam::temperature, 0.0, 2.54, 7}, {71, MidiParam::top_k, 1, 128, 7}};
  MidiInput input(sink, config);
  input.sync_all(state_.snapshot(), 0.0);  // temperature 1.1: CC value 55
  const auto cc = [&](int number, int value) {
    const std::uint8_t bytes[] = {0xB0, static_cast<std::uint8_t>(number), static_cast<std::uint8_t>(value)};
    input.handle(bytes, sizeof bytes);
  };
  cc(70, 55);  // picked up
  cc(70, 60);
  EXPECT_FLOAT_EQ(state_.snapshot().temperature, 1.2f);
  osc::CommandContext context{controls_, [](bool) { return ControlResult{}; }};
  ASSERT_EQ(osc::dispatch({"/continuo/preset", {osc::Arg::string("calm")}}, context).address, "/done");
  EXPECT_EQ(state_.snapshot().temperature, 0.5f);
  cc(70, 61);  // the knob is at 1.22, the preset put 0.5: no jump
  EXPECT_EQ(state_.snapshot().temperature, 0.5f) << "the knob must pick the preset's value up";
  cc(70, 30);
  EXPECT_EQ(state_.snapshot().temperature, 0.5f);
  cc(70, 20);  // crossed 0.5 (CC 25) between 30 and 20: picked up
  EXPECT_FLOAT_EQ(state_.snapshot().temperature, 0.4f);
  cc(70, 22);
  EXPECT_FLOAT_EQ(state_.snapshot().temperature, 0.44f);

  ASSERT_EQ(osc::dispatch({"/continuo/temperature", {osc::Arg::float32(2.0f)}}, context).address, "/done");
  cc(70, 23);
  EXPECT_EQ(state_.snapshot().temperature, 2.0f) << "an OSC setter, too";
  cc(70, 100);  // 2.0 is CC 100: within a step
  EXPECT_FLOAT_EQ(state_.snapshot().temperature, 2.0f);
  cc(70, 101);
  EXPECT_FLOAT_EQ(state_.snapshot().temperature, 2.02f);

  // A knob on a parameter nobody else touched keeps following.
  cc(71, 12);  // top_k 12 (the preset's) picked up at once
  cc(71, 127);
  EXPECT_EQ(state_.snapshot().top_k, 128);
  // Set to the very value the knob last sent: still picked up, nothing to catch up with.
  ASSERT_EQ(osc::dispatch({"/continuo/topk", {osc::Arg::int32(128)}}, context).address, "/done");
  cc(71, 0);
  EXPECT_EQ(state_.snapshot().top_k, 1);
}

TEST_F(PresetRecall, OscPresetRecallsByName) {
  osc::CommandContext context{controls_, [](bool) { return ControlResult{}; }};
  const auto send = [&](std::vector<osc::Arg> args) {
    const osc::Message reply = osc::dispatch({"/continuo/preset", std::move(args)}, context);
    std::string text = reply.address;
    for (const osc::Arg& arg : reply.args) text += " | " + arg.text;
    return text;
  };
  EXPECT_EQ(send({osc::Arg::string("calm")}), "/done | /continuo/preset");
  expect_calm(state_.snapshot());
  EXPECT_EQ(state_.snapshot().version, 1u);
  EXPECT_EQ(send({osc::Arg::string("nope")}), "/fail | /continuo/preset | no preset named \"nope\"");
  EXPECT_EQ(send({osc::Arg::int32(2)}),
            "/fail | /continuo/preset | expects s (a preset name from the config's [[presets]])");
  EXPECT_EQ(send({}), "/fail | /continuo/preset | expects s (a preset name from the config's [[presets]])");
  EXPECT_EQ(state_.snapshot().version, 1u);
}

}  // namespace
}  // namespace continuo
