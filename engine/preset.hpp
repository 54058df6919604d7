#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/style_encoder.hpp"

namespace continuo {

// A named set of performer parameters from the config's [[presets]] (docs/midi.md):
// recalled by MIDI program change (program) or /continuo/preset <name>, every value it
// sets applied at one frame boundary. A value left out is left as it is.
struct Preset {
  std::string name;                 // non-empty, unique
  std::optional<int> program;       // 0..127, unique: the MIDI program change that recalls it
  std::optional<std::array<int, kStyleTokens>> style_tokens;  // each -1..1023
  std::optional<float> temperature;  // (0, 10]
  std::optional<int> top_k;          // 1..1024
  std::optional<float> cfg_style;    // -1..7
  std::optional<float> cfg_notes;    // -1..7
  std::optional<float> cfg_drums;    // -1..7
  std::optional<int> drums;          // -1 model decides, 0 off, 1 on
  std::optional<int> onset_mode;     // 1 a note-on is an onset frame, then sustain; 0 sustain at once (legato)
  std::optional<std::vector<WeightedPrompt>> prompts;  // 1..8, replacing every slot; not with style_tokens

  bool operator==(const Preset&) const = default;
};

}  // namespace continuo
