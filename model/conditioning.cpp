#include "model/conditioning.hpp"

#include <algorithm>
#include <cmath>

namespace continuo::model {
namespace {

// Steps and bins of the official CFG tokens (docs/mrt2-reference.md §0).
constexpr double kStyleStep = 0.2;
constexpr int kStyleMaxBin = 40;
constexpr double kDrumStep = 1.0;
constexpr int kDrumMaxBin = 8;

}  // namespace

int cfg_token(float scale, double step, int max_bin) {
  const double clamped = std::clamp(static_cast<double>(scale), -1.0, 7.0);
  // Python's round(): half to even, which std::nearbyint does in the default rounding mode.
  const double bin = std::nearbyint((clamped + 1.0) / step);
  return std::clamp(static_cast<int>(bin), 0, max_bin);
}

FrameConditioning conditioning_from(const ControlSnapshot& control) {
  FrameConditioning conditioning;
  conditioning.style_tokens = control.style_tokens;
  std::transform(control.notes.begin(), control.notes.end(), conditioning.notes.begin(),
                 [](NoteState state) { return static_cast<int>(state); });
  conditioning.drum = control.drums;
  conditioning.cfg_style_token = cfg_token(control.cfg_style, kStyleStep, kStyleMaxBin);
  conditioning.cfg_notes_token = cfg_token(control.cfg_notes, kStyleStep, kStyleMaxBin);
  conditioning.cfg_drum_token = cfg_token(control.cfg_drums, kDrumStep, kDrumMaxBin);
  return conditioning;
}

FrameConditioning masked_conditioning() {
  FrameConditioning conditioning;
  conditioning.style_tokens.fill(-1);
  conditioning.notes.fill(-1);
  return conditioning;  // drum and CFG tokens default to -1 (masked)
}

SamplingParams sampling_from(const ControlSnapshot& control) {
  return SamplingParams{control.temperature, control.top_k, control.seed};
}

}  // namespace continuo::model
