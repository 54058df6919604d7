#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/lockfree/spsc_queue.hpp>

#include "engine/realtime.hpp"

namespace continuo {

// Interleaved stereo audio handed from the generator thread (the one producer) to the
// JACK process callback (the one consumer). Wait-free on both sides; storage is
// allocated once at construction. Counts are in frames (one sample per channel).
class AudioRing {
 public:
  static constexpr std::size_t kChannels = 2;

  explicit AudioRing(std::size_t capacity_frames) : queue_(capacity_frames * kChannels + 1) {}

  std::size_t capacity_frames() const { return capacity_frames_; }

  // Producer side. Pushes whole frames only; returns how many were pushed.
  std::size_t push(std::span<const float> interleaved) {
    const std::size_t frames = std::min(interleaved.size() / kChannels, writable_frames());
    queue_.push(interleaved.data(), frames * kChannels);
    return frames;
  }
  std::size_t writable_frames() const { return queue_.write_available() / kChannels; }

  // Producer side: everything before ring position `position` (frames pushed since
  // construction, all pushed already) is stale. The consumer fades out what it is playing
  // and drops the rest up to there (engine/playback.cpp): a reset is heard at once rather
  // than after the lookahead.
  void request_skip(std::uint64_t position) { skip_to_.store(position, std::memory_order_release); }
  std::uint64_t skip_to() const CONTINUO_REALTIME { return skip_to_.load(std::memory_order_acquire); }

  // Consumer side. Pops whole frames only; returns how many were popped.
  std::size_t pop(std::span<float> interleaved) CONTINUO_REALTIME {
    const std::size_t frames = std::min(interleaved.size() / kChannels, readable_frames());
    queue_.pop(interleaved.data(), frames * kChannels);
    popped_.store(popped_.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
    return frames;
  }
  std::uint64_t popped() const CONTINUO_REALTIME { return popped_.load(std::memory_order_relaxed); }
  std::size_t readable_frames() const CONTINUO_REALTIME { return queue_.read_available() / kChannels; }

 private:
  boost::lockfree::spsc_queue<float> queue_;
  std::size_t capacity_frames_ = queue_.write_available() / kChannels;
  std::atomic<std::uint64_t> skip_to_{0};
  std::atomic<std::uint64_t> popped_{0};  // written by the consumer only
};

}  // namespace continuo
