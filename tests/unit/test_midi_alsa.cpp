// midi.backend = "alsa": RtMidi's callback into the MIDI ring (the same ring and parser as
// JACK MIDI), port matching, and the errors that name the port. A real ALSA client is
// tests/integration/test_midi_alsa.py's job where the kernel offers /dev/snd/seq.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "midi/alsa_input.hpp"
#include "midi/midi_input.hpp"

namespace continuo {
namespace {

class Recorder : public MidiSink {
 public:
  std::string note(int pitch, int velocity) override {
    calls.push_back("note " + std::to_string(pitch) + " " + std::to_string(velocity));
    return "";
  }
  std::string clear_notes() override { return ""; }
  std::string set(MidiParam param, double value) override {
    calls.push_back(std::string("set ") + midi_param_info(param).name + " " + std::to_string(static_cast<int>(value)));
    return "";
  }
  std::vector<std::string> calls;
};

TEST(MidiAlsa, RtMidiMessagesReachTheParserThroughTheRing) {
  Recorder sink;
  MidiConfig config;
  config.takeover = MidiTakeover::none;
  config.cc_map = {{70, MidiParam::top_k, 0, 127, 7}};
  MidiInput input(sink, config, 4);
  std::vector<unsigned char> on{0x90, 60, 100};
  std::vector<unsigned char> cc{0xB0, 70, 33};
  std::vector<unsigned char> off{0x80, 60, 0};
  std::vector<unsigned char> empty;
  std::vector<unsigned char> long_one(40, 0x90);
  // As RtMidi's thread calls it, with the ring as user data.
  AlsaMidiInput::deliver(0.0, &on, &input.midi_ring());
  AlsaMidiInput::deliver(0.001, &cc, &input.midi_ring());
  AlsaMidiInput::deliver(0.002, &empty, &input.midi_ring());
  AlsaMidiInput::deliver(0.003, &long_one, &input.midi_ring());
  AlsaMidiInput::deliver(0.004, &off, &input.midi_ring());
  EXPECT_EQ(input.drain(), 3u);
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"note 60 100", "set top_k 33", "note 60 0"}));
  // The ring holds 4: a fifth undrained message is dropped and counted, never blocks RtMidi.
  for (int k = 0; k < 5; ++k) AlsaMidiInput::deliver(0.0, &on, &input.midi_ring());
  const MidiStats stats = input.stats();
  EXPECT_EQ(stats.dropped, 3u) << "empty, oversize, ring full";
  EXPECT_EQ(input.drain(), 4u);
}

TEST(MidiAlsa, PortsMatchByClientAndPortNumbersOrByName) {
  const std::vector<std::string> names{"Midi Through:Midi Through Port-0 14:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0",
                                       "Launchpad:Launchpad MIDI 1 120:0"};
  EXPECT_EQ(AlsaMidiInput::match_port(names, "20:0"), 1u);
  EXPECT_EQ(AlsaMidiInput::match_port(names, "120:0"), 2u) << "numbers match whole, not as a suffix of 120";
  EXPECT_EQ(AlsaMidiInput::match_port(names, "0:0"), std::nullopt);
  EXPECT_EQ(AlsaMidiInput::match_port(names, "nanoKONTROL"), 1u);
  EXPECT_EQ(AlsaMidiInput::match_port(names, "Through"), 0u);
  EXPECT_EQ(AlsaMidiInput::match_port(names, "Keystation"), std::nullopt);
  EXPECT_EQ(AlsaMidiInput::match_port({}, "14:0"), std::nullopt);
}

TEST(MidiAlsa, ErrorsNameThePortAndTheSequencer) {
  MidiRing ring(8);
  try {
    AlsaMidiInput input(ring, "no-such-controller-xyz", "continuo-test");
    FAIL() << "opened a port that does not exist";
  } catch (const MidiBackendError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("no-such-controller-xyz"), std::string::npos) << what;
    if (std::filesystem::exists("/dev/snd/seq")) {
      EXPECT_NE(what.find("no ALSA sequencer port matches"), std::string::npos) << what;
    } else {
      EXPECT_NE(what.find("cannot open the ALSA sequencer"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace continuo
