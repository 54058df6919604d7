#include "engine/generator.hpp"

#include <algorithm>
#include <chrono>

#include "engine/log.hpp"

namespace continuo {
namespace {

// Linear gain ramps over at most fade frames of interleaved stereo, so a reset never
// cuts the old continuation off (or starts the new one) with a step.
void fade_out_tail(std::vector<float>& audio, std::size_t fade) {
  const std::size_t frames = audio.size() / AudioRing::kChannels;
  fade = std::min(fade, frames);
  for (std::size_t i = 0; i < fade; ++i) {
    const float g = static_cast<float>(fade - 1 - i) / static_cast<float>(fade);
    for (std::size_t c = 0; c < AudioRing::kChannels; ++c) audio[(frames - fade + i) * AudioRing::kChannels + c] *= g;
  }
}

void fade_in_head(std::vector<float>& audio, std::size_t fade) {
  fade = std::min(fade, audio.size() / AudioRing::kChannels);
  for (std::size_t i = 0; i < fade; ++i) {
    const float g = static_cast<float>(i) / static_cast<float>(fade);
    for (std::size_t c = 0; c < AudioRing::kChannels; ++c) audio[i * AudioRing::kChannels + c] *= g;
  }
}

}  // namespace

Generator::Generator(FrameSource& source, AudioRing& ring, std::size_t lookahead_frames, std::size_t fade_frames)
    : source_(source),
      ring_(ring),
      lookahead_frames_(lookahead_frames),
      fade_frames_(fade_frames),
      analyser_(source.output_rate()) {}

Generator::~Generator() { stop(); }

void Generator::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { loop(); });
}

void Generator::stop() {
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

void Generator::request_reset(std::uint64_t seed) {
  reset_seed_.store(seed, std::memory_order_relaxed);
  reset_requested_.store(true, std::memory_order_release);
}

std::uint64_t Generator::frames_read() const {
  const std::uint64_t pushed = frames_pushed_.load(std::memory_order_acquire);
  return pushed - std::min<std::uint64_t>(pushed, ring_.readable_frames());
}

void Generator::loop() {
  while (running_.load(std::memory_order_relaxed)) {
    if (!fill_once()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool Generator::fill_once() {
  if (pending_offset_ < pending_.size()) {
    push_pending();
    return pending_offset_ == pending_.size();
  }
  if (ring_.readable_frames() >= lookahead_frames_) return false;
  make_frame();
  push_pending();
  return true;
}

void Generator::push_pending() {
  const std::size_t frames = ring_.push(std::span<const float>(pending_).subspan(pending_offset_));
  pending_offset_ += frames * AudioRing::kChannels;
  frames_pushed_.fetch_add(frames, std::memory_order_release);
}

// One frame boundary: rate changes and resets take effect here, then the frame is made
// and its control changes are queued for latency measurement at the ring position it
// will start playing from (everything before it is pushed by now).
void Generator::make_frame() {
  const int rate = requested_rate_.load(std::memory_order_relaxed);
  if (rate > 0 && rate != source_.output_rate()) {
    log_info("generator: output rate ", source_.output_rate(), " -> ", rate, " Hz");
    source_.set_output_rate(rate);
  }
  const std::span<const float> frame = source_.next_frame();
  pending_.assign(frame.begin(), frame.end());
  pending_offset_ = 0;
  latency_.frame_queued(source_.last_frame_changes(), frames_pushed_.load(std::memory_order_relaxed));
  if (fade_in_next_) {
    fade_in_head(pending_, fade_frames_);
    fade_in_next_ = false;
  }
  if (reset_requested_.exchange(false, std::memory_order_acquire)) {
    fade_out_tail(pending_, fade_frames_);
    source_.reset(reset_seed_.load(std::memory_order_relaxed));
    resets_.fetch_add(1, std::memory_order_relaxed);
    fade_in_next_ = true;
    log_info("generator: reset, a fresh continuation from the next frame");
  }
  // The audio exactly as it is pushed (fades included), heard from ring position start.
  analysis_.push(analyser_.analyse(pending_, source_.output_rate()), frames_pushed_.load(std::memory_order_relaxed));
}

}  // namespace continuo
