#include "engine/generator.hpp"

#include <algorithm>
#include <chrono>

#include "engine/log.hpp"

namespace continuo {
Generator::Generator(FrameSource& source, AudioRing& ring, std::size_t lookahead_frames)
    : source_(source),
      ring_(ring),
      lookahead_frames_(lookahead_frames),
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
  reset_arrived_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
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
  if (reset_requested_.exchange(false, std::memory_order_acquire)) reset_now();
  if (pending_offset_ < pending_.size()) {
    push_pending();
    return pending_offset_ == pending_.size();
  }
  if (ring_.readable_frames() >= lookahead_frames_) return false;
  make_frame();
  push_pending();
  return true;
}

// Between frames, at once: the old continuation ends where the ring ends now.
void Generator::reset_now() {
  pending_.clear();
  pending_offset_ = 0;
  source_.reset(reset_seed_.load(std::memory_order_relaxed));
  resets_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t fresh = frames_pushed_.load(std::memory_order_relaxed);
  const std::uint64_t read = frames_read();
  ring_.request_skip(fresh);
  // Frames not started yet will not be heard: their features are dropped, and the changes
  // they were the first to carry are heard with the first fresh frame instead.
  analysis_.drop_after(read);
  latency_.moved(read, fresh);
  reset_latency_.moved(read, fresh);  // an earlier reset not heard yet is heard with this one
  const ControlChange request{0, std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(
                                     reset_arrived_ns_.load(std::memory_order_relaxed)))};
  reset_latency_.frame_queued({&request, 1}, fresh);
  log_info("generator: reset, a fresh continuation from ring position ", fresh, " (", fresh - std::min(fresh, read),
           " frames of lookahead dropped)");
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
  // The audio exactly as it is pushed (fades included), heard from ring position start.
  if (!analysis_wanted_.load(std::memory_order_relaxed)) {
    analyser_.skip(pending_, source_.output_rate());
    return;
  }
  analysis_.push(analyser_.analyse(pending_, source_.output_rate()), frames_pushed_.load(std::memory_order_relaxed));
  frames_analysed_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace continuo
