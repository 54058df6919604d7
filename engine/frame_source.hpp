#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <span>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/model.hpp"
#include "engine/resampler.hpp"
#include "engine/stats.hpp"

namespace continuo {

class SessionRecorder;

// One step of the continuation loop, shared by live playback and offline render: take
// the control snapshot in force at this frame boundary, step the model once, and convert
// the frame to the output rate.
class FrameSource {
 public:
  FrameSource(Model& model, ControlState& control, int output_rate, ResamplerQuality quality);

  // Interleaved stereo at the output rate. Valid until the next call. What the model's step
  // throws is thrown on, once the recorder has heard of it.
  std::span<const float> next_frame();

  // Takes effect at the next frame boundary; called from the generator thread.
  void set_output_rate(int rate);
  int output_rate() const { return output_rate_; }

  // The performer changes the last frame was the first to carry (generator thread).
  std::span<const ControlChange> last_frame_changes() const { return carried_; }

  // A fresh continuation from the next frame: the model's streaming state and the
  // resampler's history cleared. Generator thread, at a frame boundary.
  void reset(std::uint64_t seed);

  // As reset, to the context tokens made by encoder from (Model::reset_to_context); false,
  // and nothing changed, when the model stepped now is not the one whose encoder that is.
  bool reset_to_context(const AudioEncoder& from, std::uint64_t seed, std::span<const int> tokens);
  // As reset, to context tokens of the model stepped now (replay: a journal's context line).
  // The recorder journals the tokens its offer_context was given (docs/reliability.md).
  void reset_to_tokens(std::uint64_t seed, std::span<const int> tokens);

  // Steps model from the next frame on, with a fresh resampler for its rate; model is
  // stepped as it is (reset already, with seed). The previous model is not touched again.
  // Generator thread, at a frame boundary.
  void use_model(Model& model, std::uint64_t seed);

  // Zeros as long as one model frame at the output rate, for the generator to play while
  // the model cannot step; the recorder hears them as silence played. Valid until the next call.
  std::span<const float> silent_frame();

  // Hands every frame (with the controls it was made with), reset, rate change and model
  // switch to the session recorder from now on; set it before the generator starts. None:
  // not recorded.
  void set_recorder(SessionRecorder* recorder) { recorder_ = recorder; }

  std::uint64_t frames() const { return frames_.load(std::memory_order_relaxed); }
  const DurationWindow& step_ms() const { return step_ms_; }
  std::vector<StagePercentiles> stage_percentiles() const;

 private:
  Model* model_;
  ControlState& control_;
  ResamplerQuality quality_;
  int output_rate_;
  std::unique_ptr<Resampler> resampler_;  // null when the rates match: audio passes bit-exact
  SessionRecorder* recorder_ = nullptr;
  std::vector<float> model_out_;
  std::vector<float> resampled_;
  std::vector<float> silence_;
  std::vector<ControlChange> carried_;
  std::atomic<std::uint64_t> frames_{0};
  DurationWindow step_ms_;

  void fit_model();
  void make_resampler();
  void record_stages();
  mutable std::mutex stages_mutex_;  // the generator adds stages while status reads them
  std::vector<std::pair<std::string, std::unique_ptr<DurationWindow>>> stage_ms_;
};

}  // namespace continuo
