#include "engine/frame_source.hpp"

#include "engine/audio_ring.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>

#include "engine/recorder.hpp"

namespace continuo {

FrameSource::FrameSource(Model& model, ControlState& control, int output_rate, ResamplerQuality quality)
    : model_(&model), control_(control), quality_(quality), output_rate_(output_rate) {
  fit_model();
}

void FrameSource::set_output_rate(int rate) {
  if (rate == output_rate_) return;
  output_rate_ = rate;
  make_resampler();
  if (recorder_ != nullptr) recorder_->on_output_rate(frames(), rate);
}

// The output buffer and resampler for the model's frame size and rate.
void FrameSource::fit_model() {
  const ModelInfo& info = model_->info();
  model_out_.assign(static_cast<std::size_t>(info.frame_samples * info.channels), 0.0f);
  make_resampler();
}

void FrameSource::make_resampler() {
  const ModelInfo& info = model_->info();
  resampler_ = output_rate_ == info.sample_rate
                   ? nullptr
                   : std::make_unique<Resampler>(info.sample_rate, output_rate_, quality_, info.channels);
}

void FrameSource::reset(std::uint64_t seed) {
  model_->reset(seed);
  make_resampler();  // a fresh one: no history of the old continuation
  if (recorder_ != nullptr) recorder_->on_reset(frames(), seed);
}

bool FrameSource::reset_to_context(const AudioEncoder& from, std::uint64_t seed, std::span<const int> tokens) {
  if (model_->audio_encoder().get() != &from) return false;
  reset_to_tokens(seed, tokens);
  return true;
}

void FrameSource::reset_to_tokens(std::uint64_t seed, std::span<const int> tokens) {
  model_->reset_to_context(seed, tokens);
  make_resampler();
  if (recorder_ != nullptr) recorder_->on_context(frames(), seed);
}

void FrameSource::use_model(Model& model, std::uint64_t seed) {
  model_ = &model;
  fit_model();
  if (recorder_ != nullptr) recorder_->on_model(frames(), seed);
}

std::span<const float> FrameSource::silent_frame() {
  const ModelInfo& info = model_->info();
  const auto samples = std::lround(static_cast<double>(info.frame_samples) * output_rate_ / info.sample_rate);
  silence_.assign(static_cast<std::size_t>(std::max(samples, 1L)) * AudioRing::kChannels, 0.0f);
  if (recorder_ != nullptr) recorder_->on_silence(frames(), silence_.size() / AudioRing::kChannels);
  return silence_;
}

std::span<const float> FrameSource::next_frame() {
  const ControlSnapshot control = control_.take_frame_snapshot(carried_);
  const auto started = std::chrono::steady_clock::now();
  try {
    model_->step(control, model_out_);
  } catch (...) {
    if (recorder_ != nullptr) recorder_->on_step_failed(frames());
    throw;
  }
  step_ms_.add(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
  const std::uint64_t frame = frames_.fetch_add(1, std::memory_order_relaxed);
  record_stages();
  std::span<const float> out = model_out_;
  if (resampler_) {
    resampled_.clear();
    resampler_->process(model_out_, resampled_);
    out = resampled_;
  }
  if (recorder_ != nullptr) recorder_->on_frame(frame, control, out);
  return out;
}

void FrameSource::record_stages() {
  for (const StageTime& stage : model_->last_step_stages()) {
    std::lock_guard lock(stages_mutex_);
    auto entry = std::find_if(stage_ms_.begin(), stage_ms_.end(), [&](const auto& e) { return e.first == stage.stage; });
    if (entry == stage_ms_.end()) {
      stage_ms_.emplace_back(std::string(stage.stage), std::make_unique<DurationWindow>());
      entry = std::prev(stage_ms_.end());
    }
    entry->second->add(stage.ms);
  }
}

std::vector<StagePercentiles> FrameSource::stage_percentiles() const {
  std::lock_guard lock(stages_mutex_);
  std::vector<StagePercentiles> result;
  for (const auto& [stage, window] : stage_ms_) result.push_back({stage, window->percentile(50), window->percentile(99)});
  return result;
}

}  // namespace continuo
