#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "midi/midi_ring.hpp"

class RtMidiIn;

namespace continuo {

// The ALSA sequencer cannot be opened, or midi.alsa_port names no port; what() says which.
struct MidiBackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// midi.backend = "alsa": MIDI from the ALSA sequencer through RtMidi. RtMidi's own thread
// calls deliver() for every message, which pushes it into the same MidiRing the JACK
// process callback fills with backend "jack" (only one of them pushes: the ring has one
// producer), so MidiInput parses both alike. SysEx, clock and active sensing are ignored
// by RtMidi before they reach the ring.
class AlsaMidiInput {
 public:
  // port: "client:port" (e.g. "20:0") or a substring of a port's name ("nanoKONTROL");
  // "" opens a virtual input port called `name` (the JACK client name) that other
  // programs connect to. Throws MidiBackendError naming the port or the sequencer.
  AlsaMidiInput(MidiRing& ring, const std::string& port, const std::string& name);
  ~AlsaMidiInput();
  AlsaMidiInput(const AlsaMidiInput&) = delete;
  AlsaMidiInput& operator=(const AlsaMidiInput&) = delete;

  const std::string& source() const { return source_; }  // what it listens to, for the log

  // RtMidi's callback (user data: the MidiRing). Public so tests can drive the adapter
  // without a sequencer.
  static void deliver(double seconds, std::vector<unsigned char>* message, void* ring);

  // The index in RtMidi's port names ("client name:port name client:port") of the port
  // `wanted` names: "c:p" matches the numbers at the end, anything else a substring.
  static std::optional<unsigned> match_port(const std::vector<std::string>& names, const std::string& wanted);

 private:
  std::unique_ptr<RtMidiIn> in_;
  std::string source_;
};

}  // namespace continuo
