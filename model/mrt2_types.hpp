#pragma once

#include <array>
#include <cstdint>

namespace continuo::model {

// Levels of the RVQ the language model predicts per frame (SpectroStream has more; the
// LM uses the first 12).
inline constexpr int kLmLevels = 12;
inline constexpr int kStyleTokens = 12;
inline constexpr int kPitches = 128;

// One frame's conditioning in the official model's raw values (before its +7 offset):
// -1 means masked everywhere.
struct FrameConditioning {
  std::array<int, kStyleTokens> style_tokens{};  // MusicCoCa tokens 0..codebook-1
  std::array<int, kPitches> notes{};             // 0 off, 1 held, 2 onset, 3 model decides
  int drum = -1;                                 // 0 none, 1 drums
  int cfg_style_token = -1;                      // scale = -1 + 0.2 * token
  int cfg_notes_token = -1;                      // scale = -1 + 0.2 * token
  int cfg_drum_token = -1;                       // scale = -1 + 1.0 * token
};

struct SamplingParams {
  float temperature = 1.1f;
  int top_k = 40;
  std::uint64_t seed = 0;
};

// Per-level codes of one frame, 0..codebook-1: what the LM emits and the codec decodes.
using FrameCodes = std::array<int, kLmLevels>;

}  // namespace continuo::model
