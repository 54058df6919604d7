#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/style_encoder.hpp"

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

// Turns a performer's audio into context tokens for Model::reset_to_context
// (/continuo/prefill/live). Encoding seconds of audio costs about what generating them
// does, so it runs on a worker thread, never the generator's or the audio thread's. What
// is left for the generator at a frame boundary is feeding the tokens through the model's
// context, the cost of every reset's silence prefill (which already runs there, behind
// the reset's fade). One encode at a time per encoder.
class AudioEncoder {
 public:
  virtual ~AudioEncoder() = default;

  virtual int sample_rate() const = 0;  // the rate encode() takes
  // Interleaved stereo at sample_rate(), full scale ±1, oldest first, to the tokens of its
  // whole frames in the model's own layout. std::invalid_argument when too short to encode.
  virtual std::vector<int> encode(std::span<const float> interleaved_stereo) = 0;
};

// A streaming music model, stepped one frame at a time by the generator thread.
// Loading happens in the model registry (construction); a Model is ready to step.
class Model {
 public:
  virtual ~Model() = default;

  virtual const ModelInfo& info() const = 0;

  // Clears all streaming state; the next step starts a fresh continuation.
  virtual void reset(std::uint64_t seed) = 0;

  // As reset, with the context made of tokens from this model's audio_encoder() instead
  // of silence: generation continues the audio they were encoded from. Generator thread,
  // at a frame boundary; it costs what a reset costs (the context teacher-forced through
  // the model), never an encode. A model without an encoder is never asked.
  virtual void reset_to_context(std::uint64_t seed, std::span<const int> /*tokens*/) { reset(seed); }

  // Writes info().frame_samples interleaved stereo frames to out, steered by control.
  virtual void step(const ControlSnapshot& control, std::span<float> out) = 0;

  // The stages of the last step, for the engine's status; a model without stages has none.
  virtual std::span<const StageTime> last_step_stages() const { return {}; }

  // Text prompts to style tokens, when the model has a text tower; none otherwise.
  virtual std::shared_ptr<const StyleEncoder> style_encoder() const { return nullptr; }

  // Audio to context tokens, when the model can take audio as context; none otherwise.
  // The same object for the model's lifetime: its address tells whose tokens are whose.
  virtual std::shared_ptr<AudioEncoder> audio_encoder() const { return nullptr; }
};

}  // namespace continuo
