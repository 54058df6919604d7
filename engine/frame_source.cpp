#include "engine/frame_source.hpp"

#include "engine/audio_ring.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>

namespace continuo {

FrameSource::FrameSource(Model& model, ControlState& control, int output_rate, ResamplerQuality quality)
    : model_(&model), control_(control), quality_(quality), output_rate_(output_rate) {
  use_model(model);
}

void FrameSource::set_output_rate(int rate) {
  if (rate == output_rate_) return;
  output_rate_ = rate;
  const ModelInfo& info = model_->info();
  resampler_ = rate == info.sample_rate ? nullptr
                                        : std::make_unique<Resampler>(info.sample_rate, rate, quality_, info.channels);
}

void FrameSource::reset(std::uint64_t seed) {
  model_->reset(seed);
  const int rate = output_rate_;
  output_rate_ = 0;  // forces a fresh resampler
  set_output_rate(rate);
}

void FrameSource::use_model(Model& model) {
  model_ = &model;
  model_out_.assign(static_cast<std::size_t>(model.info().frame_samples * model.info().channels), 0.0f);
  const int rate = output_rate_;
  output_rate_ = 0;  // a resampler for the new model's rate
  set_output_rate(rate);
}

std::span<const float> FrameSource::silent_frame() {
  const ModelInfo& info = model_->info();
  const auto frames = std::lround(static_cast<double>(info.frame_samples) * output_rate_ / info.sample_rate);
  silence_.assign(static_cast<std::size_t>(std::max(frames, 1L)) * AudioRing::kChannels, 0.0f);
  return silence_;
}

std::span<const float> FrameSource::next_frame() {
  const ControlSnapshot control = control_.take_frame_snapshot(carried_);
  const auto started = std::chrono::steady_clock::now();
  model_->step(control, model_out_);
  step_ms_.add(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
  frames_.fetch_add(1, std::memory_order_relaxed);
  record_stages();
  if (!resampler_) return model_out_;
  resampled_.clear();
  resampler_->process(model_out_, resampled_);
  return resampled_;
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
