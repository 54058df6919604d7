#include "engine/generator.hpp"

#include <chrono>

#include "engine/log.hpp"

namespace continuo {

Generator::Generator(FrameSource& source, AudioRing& ring, std::size_t lookahead_frames)
    : source_(source), ring_(ring), lookahead_frames_(lookahead_frames) {}

Generator::~Generator() { stop(); }

void Generator::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { loop(); });
}

void Generator::stop() {
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

void Generator::loop() {
  while (running_.load(std::memory_order_relaxed)) {
    if (!fill_once()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool Generator::fill_once() {
  if (pending_offset_ < pending_.size()) {
    pending_offset_ += ring_.push(std::span<const float>(pending_).subspan(pending_offset_)) * AudioRing::kChannels;
    return pending_offset_ == pending_.size();
  }
  if (ring_.readable_frames() >= lookahead_frames_) return false;
  const int rate = requested_rate_.load(std::memory_order_relaxed);
  if (rate > 0 && rate != source_.output_rate()) {
    log_info("generator: output rate ", source_.output_rate(), " -> ", rate, " Hz");
    source_.set_output_rate(rate);
  }
  const std::span<const float> frame = source_.next_frame();
  pending_.assign(frame.begin(), frame.end());
  pending_offset_ = 0;
  return true;
}

}  // namespace continuo
