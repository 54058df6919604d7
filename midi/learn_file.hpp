#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config.hpp"

namespace continuo {

// A MIDI learn file continuo cannot read. what() is one line naming the file and the line:
// "learned.map:3: unknown parameter \"temprature\"".
struct LearnFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The parameter called name in midi.cc_map ("temperature", "top_k", ...), if any.
std::optional<MidiParam> midi_param_named(std::string_view name);

// The user mapping file MIDI learn writes (midi.learn_file): one knob per line,
//   <cc> <param> <min> <max>
// 7-bit, '#' starts a comment, blank lines are skipped. A missing file is an empty
// mapping (nothing learned yet); anything malformed throws LearnFileError.
std::vector<MidiCcMapping> read_learn_file(const std::string& path);

// Writes the file atomically: a temporary file beside it, flushed, then renamed over it,
// so a crash leaves the old mapping or the new one, never half of one. Throws
// LearnFileError when it cannot.
void write_learn_file(const std::string& path, const std::vector<MidiCcMapping>& mappings);

// base with each learned knob put in: a learned knob replaces whatever used its CC (a
// 14-bit pair whose MSB or LSB it is goes entirely).
std::vector<MidiCcMapping> with_learned(std::vector<MidiCcMapping> base, const std::vector<MidiCcMapping>& learned);

}  // namespace continuo
