#include "midi/midi_input.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace continuo {
namespace {

// Records every call MidiInput makes, as text: "note 60 100", "clear", "set cfg_style 7".
class RecordingSink : public MidiSink {
 public:
  std::string note(int pitch, int velocity) override {
    calls.push_back("note " + std::to_string(pitch) + " " + std::to_string(velocity));
    return pitch == 127 ? "refused for the test" : "";
  }
  std::string clear_notes() override {
    calls.push_back("clear");
    return "";
  }
  std::string set(MidiParam param, double value) override {
    char text[64];
    std::snprintf(text, sizeof text, "set %s %g", midi_param_info(param).name, value);
    calls.push_back(text);
    return "";
  }
  std::vector<std::string> calls;
};

using Calls = std::vector<std::string>;

MidiConfig config_with(int channel = 0, MidiTakeover takeover = MidiTakeover::none) {
  MidiConfig config;
  config.channel = channel;
  config.takeover = takeover;
  config.cc_map = {{70, MidiParam::cfg_style, 0, 127, 7}, {1, MidiParam::temperature, 0, 16.383, 14}};
  return config;
}

void send(MidiInput& input, std::vector<std::uint8_t> bytes) { input.handle(bytes.data(), bytes.size()); }

TEST(MidiInput, NoteOnAndOffWithVelocityZeroAsOff) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0x90, 60, 100});
  send(input, {0x90, 64, 90});
  EXPECT_EQ(input.stats().held_notes, (std::vector<int>{60, 64}));
  send(input, {0x90, 60, 0});
  send(input, {0x80, 64, 64});
  EXPECT_EQ(sink.calls, (Calls{"note 60 100", "note 64 90", "note 60 0", "note 64 0"}));
  const MidiStats stats = input.stats();
  EXPECT_EQ(stats.notes_on, 2u);
  EXPECT_EQ(stats.notes_off, 2u);
  EXPECT_TRUE(stats.held_notes.empty());
  EXPECT_EQ(stats.events, 4u);
  EXPECT_EQ(stats.messages, 4u);
}

TEST(MidiInput, RunningStatusNoteOffsInOnePacket) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0x91, 60, 100, 62, 100, 60, 0, 62, 0});
  EXPECT_EQ(sink.calls, (Calls{"note 60 100", "note 62 100", "note 60 0", "note 62 0"}));
}

TEST(MidiInput, SustainPedalHoldsReleasedNotesUntilItGoesUp) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0x90, 60, 100});
  send(input, {0xB0, 64, 127});  // pedal down
  send(input, {0x80, 60, 0});    // released, still sounding
  send(input, {0x90, 64, 80});
  send(input, {0x80, 64, 0});
  send(input, {0x90, 67, 80});   // still held by the key when the pedal goes up
  EXPECT_EQ(sink.calls, (Calls{"note 60 100", "note 64 80", "note 67 80"}));
  EXPECT_EQ(input.stats().held_notes, (std::vector<int>{60, 64, 67}));
  send(input, {0xB0, 64, 0});    // pedal up: 60 and 64 end, 67 keeps sounding
  EXPECT_EQ(sink.calls, (Calls{"note 60 100", "note 64 80", "note 67 80", "note 60 0", "note 64 0"}));
  EXPECT_EQ(input.stats().held_notes, (std::vector<int>{67}));
}

TEST(MidiInput, RepressingASustainedNoteStrikesItAgainAndKeyUpWins) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0xB0, 64, 100});
  send(input, {0x90, 60, 100, 60, 0});     // struck and released: sustained
  send(input, {0x90, 60, 70});             // struck again: a new onset
  send(input, {0xB0, 64, 10});             // pedal up while the key is down: keeps sounding
  EXPECT_EQ(sink.calls, (Calls{"note 60 100", "note 60 70"}));
  send(input, {0x80, 60, 0});
  EXPECT_EQ(sink.calls.back(), "note 60 0");
}

TEST(MidiInput, AllNotesOffAndResetControllers) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0xB0, 64, 127, 0x90, 60, 100, 62, 100});
  send(input, {0xB0, 123, 0});
  EXPECT_EQ(sink.calls.back(), "clear");
  EXPECT_TRUE(input.stats().held_notes.empty());
  send(input, {0x90, 65, 100, 65, 0});  // the pedal is still down: 65 sustains
  EXPECT_EQ(input.stats().held_notes, (std::vector<int>{65}));
  send(input, {0xB0, 121, 0});          // reset all controllers lifts the pedal
  EXPECT_EQ(sink.calls.back(), "note 65 0");
}

TEST(MidiInput, ChannelFilterPassesOnlyItsChannel) {
  RecordingSink sink;
  MidiInput input(sink, config_with(10));
  send(input, {0x90, 60, 100});        // channel 1
  send(input, {0x99, 36, 100});        // channel 10
  send(input, {0xB8, 70, 20});         // channel 9
  send(input, {0xB9, 70, 20});         // channel 10
  EXPECT_EQ(sink.calls, (Calls{"note 36 100", "set cfg_style 20"}));
  EXPECT_EQ(input.stats().filtered, 2u);
}

TEST(MidiInput, OmniListensToEveryChannel) {
  RecordingSink sink;
  MidiInput input(sink, config_with(0));
  for (std::uint8_t ch = 0; ch < 16; ++ch) send(input, {static_cast<std::uint8_t>(0x90 | ch), 60, 1});
  EXPECT_EQ(sink.calls.size(), 16u);
  EXPECT_EQ(input.stats().filtered, 0u);
}

TEST(MidiInput, MappedCcsSetParametersThroughTheMap) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0xB0, 70, 42});
  send(input, {0xB0, 1, 100, 33, 0x7F});  // 14-bit MSB then LSB, running status
  send(input, {0xB0, 20, 5});             // unmapped
  EXPECT_EQ(sink.calls, (Calls{"set cfg_style 42", "set temperature 12.8", "set temperature 12.927"}));
  const MidiStats stats = input.stats();
  EXPECT_EQ(stats.control_changes, 4u);
  EXPECT_EQ(stats.params_set, 3u);
}

TEST(MidiInput, PickupWithValuesSyncedFromTheEngine) {
  RecordingSink sink;
  MidiInput input(sink, config_with(0, MidiTakeover::pickup));
  ControlSnapshot control;
  control.cfg_style = 5.0f;
  input.sync_all(control, 0.0);
  send(input, {0xB0, 70, 100});
  send(input, {0xB0, 70, 50});
  EXPECT_TRUE(sink.calls.empty());
  send(input, {0xB0, 70, 3});  // crossed 5
  EXPECT_EQ(sink.calls, (Calls{"set cfg_style 3"}));
  input.sync(MidiParam::cfg_style, 60.0);  // OSC moved it
  send(input, {0xB0, 70, 4});
  EXPECT_EQ(sink.calls.size(), 1u);
}

TEST(MidiInput, GarbageSysExAndRefusalsAreCountedNotFatal) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0x40, 0x41});                          // data without status
  send(input, {0x90, 60});                            // truncated by the end of the event
  send(input, {0xF8, 0xF0, 1, 2, 3, 0xF7, 0xFA});     // clock, SysEx, start
  send(input, {0x90, 127, 100});                      // the sink refuses
  send(input, {0xE0, 0, 64, 0xC0, 3});                // pitch bend; program change with no preset
  const MidiStats stats = input.stats();
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.sysex, 1u);
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.ignored, 4u);
  EXPECT_EQ(sink.calls, (Calls{"note 127 100"}));
}

TEST(MidiInput, ThreadDrainsTheRing) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  MidiRing& ring = input.midi_ring();
  const std::uint8_t on[] = {0x90, 60, 100};
  const std::uint8_t sysex[] = {0xF0, 1, 0xF7};
  const std::uint8_t big[MidiEvent::kMaxBytes + 1] = {0x90, 1, 1};
  EXPECT_TRUE(ring.push(7, on, sizeof on));
  EXPECT_FALSE(ring.push(8, sysex, sizeof sysex));
  EXPECT_FALSE(ring.push(9, big, sizeof big));
  EXPECT_FALSE(ring.push(9, big, 0));
  input.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (input.stats().events < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  input.stop();
  const MidiStats stats = input.stats();
  EXPECT_EQ(stats.events, 1u);
  EXPECT_EQ(stats.sysex, 1u);
  EXPECT_EQ(stats.dropped, 2u);
  EXPECT_EQ(sink.calls, (Calls{"note 60 100"}));
}

TEST(MidiInput, FullRingDropsAndCounts) {
  RecordingSink sink;
  MidiInput input(sink, config_with(), 4);
  const std::uint8_t on[] = {0x90, 60, 100};
  int pushed = 0;
  for (int i = 0; i < 10; ++i) pushed += input.midi_ring().push(0, on, sizeof on) ? 1 : 0;
  EXPECT_EQ(pushed, 4);
  EXPECT_EQ(input.midi_ring().drops().full, 6u);
  EXPECT_EQ(input.drain(), 4u);
  EXPECT_EQ(input.stats().dropped, 6u);
}

TEST(MidiInput, StatsJson) {
  RecordingSink sink;
  MidiInput input(sink, config_with());
  send(input, {0x90, 60, 100, 64, 100});
  const std::string json = input.stats().to_json();
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"events\":1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"notes_on\":2,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"held_notes\":[60,64]}"), std::string::npos) << json;
}

}  // namespace
}  // namespace continuo
