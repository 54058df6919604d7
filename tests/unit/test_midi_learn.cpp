#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "midi/cc_map.hpp"
#include "midi/learn_file.hpp"
#include "midi/midi_input.hpp"

namespace continuo {
namespace {

class Sink : public MidiSink {
 public:
  std::string note(int, int) override { return ""; }
  std::string clear_notes() override { return ""; }
  std::string set(MidiParam param, double value) override {
    calls.push_back(std::string(midi_param_info(param).name) + " " + std::to_string(value));
    return "";
  }
  std::vector<std::string> calls;
};

struct Bound {
  MidiParam param;
  std::optional<int> cc;
};

void cc(MidiInput& input, int number, int value) {
  const std::uint8_t bytes[] = {0xB0, static_cast<std::uint8_t>(number), static_cast<std::uint8_t>(value)};
  input.handle(bytes, sizeof bytes);
}

MidiConfig plain_config() {
  MidiConfig config;
  config.takeover = MidiTakeover::none;
  config.cc_map = {{70, MidiParam::temperature, 0.1, 2.5, 7}, {1, MidiParam::cfg_style, 0, 7, 14}};
  return config;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("continuo_learn_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// A config reload's midi.cc_map replaces the config's knobs; learned ones stay on top.
TEST(MidiLearn, AReloadedCcMapRemapsTheKnobsAndKeepsTheLearnedOnes) {
  Sink sink;
  MidiInput input(sink, plain_config());
  ASSERT_EQ(input.learn("top_k", [](MidiParam, std::optional<int>) {}), "");
  cc(input, 21, 0);  // binds CC 21 to top_k
  input.set_cc_map({{20, MidiParam::temperature, 0.5, 1.5, 7}});
  cc(input, 70, 127);  // the old knob does nothing now
  EXPECT_TRUE(sink.calls.empty());
  cc(input, 20, 127);
  cc(input, 21, 127);
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"temperature 1.500000", "top_k 1024.000000"}));
  const std::vector<MidiCcMapping> expected{{20, MidiParam::temperature, 0.5, 1.5, 7},
                                            {21, MidiParam::top_k, 1, 1024, 7}};
  EXPECT_EQ(input.mappings(), expected);
  // A knob learned from now on sweeps the reloaded map's range for its parameter.
  ASSERT_EQ(input.learn("temperature", [](MidiParam, std::optional<int>) {}), "");
  cc(input, 22, 0);
  cc(input, 22, 127);
  EXPECT_EQ(sink.calls.back(), "temperature 1.500000");
}

TEST(MidiLearn, UnknownParameterIsRefusedAtOnce) {
  Sink sink;
  MidiInput input(sink, plain_config());
  EXPECT_NE(input.learn("temprature", [](MidiParam, std::optional<int>) {}).find("unknown parameter"),
            std::string::npos);
  EXPECT_FALSE(input.cancel_learn());
}

TEST(MidiLearn, NextCcIsBoundAndThenMovesTheParameter) {
  Sink sink;
  MidiInput input(sink, plain_config());
  std::vector<Bound> bound;
  ASSERT_EQ(input.learn("top_k", [&](MidiParam p, std::optional<int> c) { bound.push_back({p, c}); }), "");
  cc(input, 64, 127);  // the pedal is never learned
  EXPECT_TRUE(bound.empty());
  cc(input, 21, 127);  // binds; the binding move itself changes nothing
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_EQ(bound[0].param, MidiParam::top_k);
  EXPECT_EQ(bound[0].cc, 21);
  EXPECT_TRUE(sink.calls.empty());
  cc(input, 21, 127);  // now it is a knob: top_k's whole range, 1..1024
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0], "top_k 1024.000000");
  EXPECT_FALSE(input.cancel_learn());  // disarmed after one bind
}

TEST(MidiLearn, ReplacesTheEarlierBindingOfThatCcAndKeepsTheConfigRange) {
  Sink sink;
  MidiInput input(sink, plain_config());
  ASSERT_EQ(input.learn("temperature", {}), "");
  cc(input, 33, 0);  // the LSB of the 14-bit pair on CC 1: the pair goes
  const std::vector<MidiCcMapping> map = input.mappings();
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0], (MidiCcMapping{70, MidiParam::temperature, 0.1, 2.5, 7}));
  EXPECT_EQ(map[1], (MidiCcMapping{33, MidiParam::temperature, 0.1, 2.5, 7}));  // CC 70's range
  cc(input, 1, 127);  // no longer mapped
  EXPECT_TRUE(sink.calls.empty());
  ASSERT_EQ(input.learn("mute", {}), "");
  cc(input, 70, 0);  // CC 70 now mutes instead of setting temperature
  cc(input, 70, 127);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0], "mute 1.000000");
}

TEST(MidiLearn, CancelAndReArmAnswerTheEarlierArming) {
  Sink sink;
  MidiInput input(sink, plain_config());
  std::vector<Bound> bound;
  const auto record = [&](MidiParam p, std::optional<int> c) { bound.push_back({p, c}); };
  ASSERT_EQ(input.learn("cfg_notes", record), "");
  ASSERT_EQ(input.learn("drums", record), "");  // replaces: cfg_notes is told it was cancelled
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_EQ(bound[0].param, MidiParam::cfg_notes);
  EXPECT_FALSE(bound[0].cc);
  EXPECT_TRUE(input.cancel_learn());
  ASSERT_EQ(bound.size(), 2u);
  EXPECT_EQ(bound[1].param, MidiParam::drums);
  EXPECT_FALSE(bound[1].cc);
  cc(input, 22, 100);  // nothing armed: an unmapped CC does nothing
  EXPECT_EQ(bound.size(), 2u);
  EXPECT_EQ(input.mappings().size(), 2u);
}

TEST(MidiLearn, LearnFileRoundTripsAndLoadsOnTopOfTheConfig) {
  const std::string path = temp_path("round.map");
  std::remove(path.c_str());
  MidiConfig config = plain_config();
  config.learn_file = path;
  {
    Sink sink;
    MidiInput input(sink, config);  // a missing file: nothing learned yet
    EXPECT_EQ(input.mappings().size(), 2u);
    ASSERT_EQ(input.learn("cfg_drums", {}), "");
    cc(input, 70, 5);
    ASSERT_EQ(input.learn("volume_db", {}), "");
    cc(input, 90, 5);
  }
  const std::vector<MidiCcMapping> learned = read_learn_file(path);
  ASSERT_EQ(learned.size(), 2u);
  EXPECT_EQ(learned[0], (MidiCcMapping{70, MidiParam::cfg_drums, -1, 7, 7}));
  EXPECT_EQ(learned[1], (MidiCcMapping{90, MidiParam::volume_db, -120, 24, 7}));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
  Sink sink;
  MidiInput again(sink, config);
  const std::vector<MidiCcMapping> map = again.mappings();
  ASSERT_EQ(map.size(), 3u);  // CC 1 from the config, CC 70 and 90 learned
  EXPECT_EQ(map[0].cc, 1);
  EXPECT_EQ(map[1], learned[0]);
  EXPECT_EQ(map[2], learned[1]);
  std::remove(path.c_str());
}

TEST(MidiLearn, BrokenFileNamesTheLineAndTheConfigMappingStays) {
  const std::string path = temp_path("broken.map");
  {
    std::ofstream out(path);
    out << "# learned\n70 cfg_style 0 7\n\n71 temprature 0.1 2\n";
  }
  try {
    read_learn_file(path);
    FAIL() << "no error";
  } catch (const LearnFileError& error) {
    EXPECT_EQ(std::string(error.what()), path + ":4: unknown parameter \"temprature\"");
  }
  for (const char* bad : {"300 top_k 1 2\n", "70 top_k 0 2\n", "70 top_k 1\n", "70 top_k 1 2 3\n",
                          "x top_k 1 2\n", "70 top_k 1 nan\n", "70 top_k 1 2\n70 mute 0 1\n"}) {
    std::ofstream(path) << bad;
    EXPECT_THROW(read_learn_file(path), LearnFileError) << bad;
  }
  std::ofstream(path) << "70 cfg_style 0 7\n71 temprature 0.1 2\n";
  MidiConfig config = plain_config();
  config.learn_file = path;
  Sink sink;
  MidiInput input(sink, config);  // logs the error, keeps midi.cc_map as it is
  EXPECT_EQ(input.mappings(), config.cc_map);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace continuo
