#include "engine/input_capture.hpp"

#include <cmath>
#include <cstdio>

#include "engine/number_text.hpp"

namespace continuo {
namespace {

// A copy of max_frames takes milliseconds and the slack is a second of audio: a retry is
// rare, a third one means the reader is starved and should say so rather than spin.
constexpr int kCopyAttempts = 3;

// Below this the input is a disconnected port, digital silence or a noise floor: nothing a
// model could continue. A quiet instrument through an interface sits well above it.
constexpr double kSilentDbfs = -60.0;
// A sample this close to ±1 is at the converter's rail; more than this share of them means
// the level is too hot and the waveform is flattened.
constexpr float kFullScale = 0.999f;
constexpr double kClippedShare = 0.01;

std::string percent_text(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * share);
  return text;
}

std::string dbfs_text(double rms) {
  if (rms <= 0.0) return "-inf dBFS";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f dBFS", 20.0 * std::log10(rms));
  return text;
}

}  // namespace

InputCapture::InputCapture(std::size_t max_frames, std::size_t slack_frames)
    : max_frames_(max_frames),
      capacity_(max_frames + slack_frames),
      samples_(std::make_unique<std::atomic<float>[]>(capacity_ * kChannels)) {}

void InputCapture::write(const float* left, const float* right, std::size_t frames) CONTINUO_REALTIME {
  if (capacity_ == 0) return;
  std::uint64_t start = written_.load(std::memory_order_relaxed);  // only this thread writes it
  if (frames > capacity_) {  // a period longer than the ring: only its end can be kept
    const std::size_t skipped = frames - capacity_;
    left += skipped;
    right += skipped;
    start += skipped;
    frames = capacity_;
  }
  const std::uint64_t end = start + frames;
  claimed_.store(end, std::memory_order_relaxed);
  // Orders the claim before the sample stores: a reader that sees one of them sees the claim.
  std::atomic_thread_fence(std::memory_order_release);
  std::size_t slot = static_cast<std::size_t>(start % capacity_);
  for (std::size_t i = 0; i < frames; ++i) {
    samples_[slot * kChannels].store(left[i], std::memory_order_relaxed);
    samples_[slot * kChannels + 1].store(right[i], std::memory_order_relaxed);
    if (++slot == capacity_) slot = 0;
  }
  written_.store(end, std::memory_order_release);
}

bool InputCapture::copy_last(std::size_t frames, std::vector<float>& out) const {
  if (frames > max_frames_) return false;
  out.resize(frames * kChannels);
  for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
    const std::uint64_t end = written_.load(std::memory_order_acquire);
    if (end < frames) return false;
    const std::uint64_t begin = end - frames;
    std::size_t slot = static_cast<std::size_t>(begin % capacity_);
    for (std::size_t i = 0; i < frames * kChannels; i += kChannels) {
      out[i] = samples_[slot * kChannels].load(std::memory_order_relaxed);
      out[i + 1] = samples_[slot * kChannels + 1].load(std::memory_order_relaxed);
      if (++slot == capacity_) slot = 0;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    // Intact when no write claimed a slot of [begin, end) again: frame q reuses the slot of
    // q - capacity_, so every claimed frame must be below begin + capacity_.
    if (claimed_.load(std::memory_order_relaxed) <= begin + capacity_) return true;
  }
  return false;
}

std::string input_level_problem(std::span<const float> interleaved, std::string_view what) {
  const std::string name(what);
  if (interleaved.empty()) return name + " is silent: no samples";
  double sum_squares = 0.0;
  std::size_t at_full_scale = 0;
  for (const float x : interleaved) {
    if (!std::isfinite(x)) return name + " holds samples that are not finite numbers";
    sum_squares += static_cast<double>(x) * x;
    if (std::fabs(x) >= kFullScale) ++at_full_scale;
  }
  const double rms = std::sqrt(sum_squares / static_cast<double>(interleaved.size()));
  if (rms < std::pow(10.0, kSilentDbfs / 20.0)) {
    return name + " is silent: RMS " + dbfs_text(rms) + ", below " + dbfs_text(std::pow(10.0, kSilentDbfs / 20.0));
  }
  const double share = static_cast<double>(at_full_scale) / static_cast<double>(interleaved.size());
  if (share > kClippedShare) {
    return name + " is clipped: " + percent_text(share) + " of samples at full scale, above " + percent_text(kClippedShare);
  }
  return {};
}

CaptureRequest capture_request(const InputCapture* capture, int rate, double seconds) {
  if (capture == nullptr) return {0, "input capture is off: set input.capture_seconds above 0 in the config"};
  if (rate <= 0) return {0, "no JACK sample rate yet: nothing captured"};
  const double most = static_cast<double>(capture->max_frames()) / rate;
  if (!(seconds > 0.0 && seconds <= most)) {
    return {0, "seconds must be greater than 0 and at most " + number_text(most) + " (input.capture_seconds), got " +
                   number_text(seconds)};
  }
  const auto frames = static_cast<std::size_t>(std::lround(seconds * rate));
  const std::uint64_t captured = capture->frames_written();
  if (captured < frames) {
    return {0, "not enough input captured yet: " + number_text(static_cast<double>(captured) / rate) + " s of the " +
                   number_text(seconds) + " s asked for"};
  }
  return {frames, {}};
}

std::string read_capture(const InputCapture& capture, std::size_t frames, std::vector<float>& audio) {
  if (!capture.copy_last(frames, audio)) return "the input could not be read: the capture ring was overwritten";
  return input_level_problem(audio);
}

}  // namespace continuo
