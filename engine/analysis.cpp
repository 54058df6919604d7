#include "engine/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/audio_ring.hpp"

namespace continuo {
namespace {

constexpr float kFloorDb = -120.0f;
constexpr double kChromaLowHz = 27.5;    // A0
constexpr double kChromaHighHz = 4186.0;  // C8
constexpr float kSilentMagnitude = 1e-6f;  // per bin on average: below it, no spectrum to speak of

}  // namespace

Analyser::Analyser(int sample_rate, int fft_size)
    : n_(fft_size),
      plan_(kernels::make_fft_plan(fft_size)),
      window_(static_cast<std::size_t>(fft_size)),
      history_(static_cast<std::size_t>(fft_size), 0.0f),
      in_(static_cast<std::size_t>(fft_size)),
      out_(static_cast<std::size_t>(fft_size)),
      magnitude_(static_cast<std::size_t>(fft_size / 2 + 1), 0.0f),
      previous_(static_cast<std::size_t>(fft_size / 2 + 1), 0.0f),
      pitch_class_(static_cast<std::size_t>(fft_size / 2 + 1), -1) {
  for (int i = 0; i < n_; ++i) {
    window_[static_cast<std::size_t>(i)] =
        static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / n_));
  }
  set_rate(sample_rate);
}

void Analyser::set_rate(int rate) {
  rate_ = rate;
  for (std::size_t k = 0; k < pitch_class_.size(); ++k) {
    const double hz = static_cast<double>(k) * rate / n_;
    if (hz < kChromaLowHz || hz > kChromaHighHz) {
      pitch_class_[k] = -1;
      continue;
    }
    const long midi = std::lround(69.0 + 12.0 * std::log2(hz / 440.0));
    pitch_class_[k] = static_cast<std::int8_t>(((midi % 12) + 12) % 12);
  }
}

double Analyser::add_to_history(std::span<const float> frame) {
  const std::size_t frames = frame.size() / AudioRing::kChannels;
  double sum_squares = 0.0;
  const std::size_t n = static_cast<std::size_t>(n_);
  const std::size_t kept = frames >= n ? 0 : n - frames;
  std::copy(history_.end() - static_cast<std::ptrdiff_t>(kept), history_.end(), history_.begin());
  for (std::size_t i = 0; i < frames; ++i) {
    float mono = 0.0f;
    for (std::size_t c = 0; c < AudioRing::kChannels; ++c) mono += frame[i * AudioRing::kChannels + c];
    mono /= static_cast<float>(AudioRing::kChannels);
    sum_squares += static_cast<double>(mono) * mono;
    if (i + n >= frames) history_[i + n - frames] = mono;
  }
  return sum_squares;
}

void Analyser::spectrum() {
  const std::size_t n = static_cast<std::size_t>(n_);
  for (std::size_t i = 0; i < n; ++i) in_[i] = {history_[i] * window_[i], 0.0f};
  kernels::fft(plan_, kernels::FftDirection::forward, in_.data(), out_.data());
  for (std::size_t k = 0; k < magnitude_.size(); ++k) magnitude_[k] = std::abs(out_[k]) * (2.0f / static_cast<float>(n));
  ++spectra_;
}

void Analyser::skip(std::span<const float> frame, int rate) {
  if (rate > 0 && rate != rate_) set_rate(rate);
  add_to_history(frame);
  previous_stale_ = true;
}

AnalysisFrame Analyser::analyse(std::span<const float> frame, int rate) {
  if (rate > 0 && rate != rate_) set_rate(rate);
  if (previous_stale_) {  // the spectrum the last skipped frame would have left behind
    spectrum();
    std::swap(magnitude_, previous_);
    previous_stale_ = false;
  }
  AnalysisFrame result;
  const std::size_t frames = frame.size() / AudioRing::kChannels;

  // Loudness of this frame alone, and its mono mix into the history.
  const double sum_squares = add_to_history(frame);
  if (frames > 0 && sum_squares > 0.0) {
    const double rms = std::sqrt(sum_squares / static_cast<double>(frames));
    result.loudness_db = std::max(kFloorDb, static_cast<float>(20.0 * std::log10(rms)));
  }

  spectrum();
  double total = 0.0;
  double weighted = 0.0;
  double flux = 0.0;
  for (std::size_t k = 0; k < magnitude_.size(); ++k) {
    const float m = magnitude_[k];
    total += m;
    weighted += static_cast<double>(m) * static_cast<double>(k) * rate_ / n_;
    flux += std::max(0.0f, m - previous_[k]);
    if (pitch_class_[k] >= 0) result.chroma[static_cast<std::size_t>(pitch_class_[k])] += m * m;
  }
  std::swap(magnitude_, previous_);
  if (total <= kSilentMagnitude * static_cast<double>(magnitude_.size())) {
    result.chroma.fill(0.0f);
    return result;
  }
  result.centroid_hz = static_cast<float>(weighted / total);
  result.onset = static_cast<float>(std::clamp(flux / total, 0.0, 1.0));
  const float peak = *std::max_element(result.chroma.begin(), result.chroma.end());
  if (peak > 0.0f) {
    for (float& c : result.chroma) c /= peak;
  }
  return result;
}

void AnalysisQueue::push(const AnalysisFrame& frame, std::uint64_t start) {
  std::lock_guard lock(mutex_);
  if (count_ == entries_.size()) {
    head_ = (head_ + 1) % entries_.size();
    --count_;
  }
  entries_[(head_ + count_) % entries_.size()] = {frame, start};
  ++count_;
}

std::size_t AnalysisQueue::take_heard(std::uint64_t read, std::span<AnalysisFrame> out) {
  std::lock_guard lock(mutex_);
  std::size_t taken = 0;
  while (taken < out.size() && count_ > 0 && entries_[head_].start < read) {
    out[taken++] = entries_[head_].frame;
    head_ = (head_ + 1) % entries_.size();
    --count_;
  }
  return taken;
}

void AnalysisQueue::drop_after(std::uint64_t after) {
  std::lock_guard lock(mutex_);
  while (count_ > 0 && entries_[(head_ + count_ - 1) % entries_.size()].start > after) --count_;
}

std::size_t AnalysisQueue::size() const {
  std::lock_guard lock(mutex_);
  return count_;
}

}  // namespace continuo
