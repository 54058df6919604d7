#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/control_state.hpp"
#include "engine/text_style.hpp"

namespace continuo {

// How long one stage of the last step took (encoder, temporal, depth, codec ...).
struct StageTime {
  std::string_view stage;
  double ms = 0.0;
};

struct ModelInfo {
  std::string name;
  int sample_rate = 48000;
  int channels = 2;           // the engine plays stereo; models emit interleaved stereo
  int frame_samples = 1920;   // samples per channel per step (40 ms at 48 kHz for MRT2)
  int latency_samples = 0;    // the model's own delay from control to sound
  int style_codebook = 1024;  // style tokens the model takes: 0..style_codebook-1 (or -1, masked)
  // For a session journal: what exactly was loaded (a package's fingerprint; empty: the
  // name says it all) and what steps it, since replay is bit-exact only on the same.
  std::string identity;
  std::string backend = "cpu";
};

// A streaming music model, stepped one frame at a time by the generator thread.
// Loading happens in the model registry (construction); a Model is ready to step.
class Model {
 public:
  virtual ~Model() = default;

  virtual const ModelInfo& info() const = 0;

  // Clears all streaming state; the next step starts a fresh continuation.
  virtual void reset(std::uint64_t seed) = 0;

  // Writes info().frame_samples interleaved stereo frames to out, steered by control.
  virtual void step(const ControlSnapshot& control, std::span<float> out) = 0;

  // The stages of the last step, for the engine's status; a model without stages has none.
  virtual std::span<const StageTime> last_step_stages() const { return {}; }

  // Text prompts to style tokens, when the model has a text tower; none otherwise.
  virtual std::shared_ptr<const TextStyle> text_style() const { return nullptr; }
};

}  // namespace continuo
