#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace continuo {

// A file that is not a Standard MIDI File continuo can read. what() is one line that
// names the file and the byte offset: "song.mid: byte 42: truncated track chunk ...".
struct MidiFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One channel message at its time. bytes always start with the status byte (running
// status is expanded), so each event is a whole packet for MidiInput::handle.
struct MidiFileEvent {
  double seconds = 0.0;
  std::uint64_t tick = 0;
  std::vector<std::uint8_t> bytes;
};

struct MidiFile {
  int format = 0;  // 0 or 1
  int tracks = 0;
  std::vector<MidiFileEvent> events;  // every track merged, in time order (ties: track order)
};

// Standard MIDI File, format 0 or 1: tempo map (meta 0x51, anywhere, applied to every
// track as format 1 requires), metrical or SMPTE division, running status. Meta events
// and SysEx are skipped; unknown chunks are skipped as the spec asks. Anything truncated
// or malformed throws MidiFileError; nothing reads past the buffer.
MidiFile parse_midi_file(std::span<const std::uint8_t> data, const std::string& name);
MidiFile read_midi_file(const std::string& path);

}  // namespace continuo
