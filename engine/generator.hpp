#pragma once

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "engine/audio_ring.hpp"
#include "engine/frame_source.hpp"

namespace continuo {

// Runs the continuation loop on its own thread, keeping the ring filled lookahead_frames
// ahead of playback. Frames are generated whole: a frame that does not fit yet waits in
// pending_ until the audio thread has made room. The audio thread is never signalled or
// waited on; this thread polls the ring's fill.
class Generator {
 public:
  Generator(FrameSource& source, AudioRing& ring, std::size_t lookahead_frames);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  void start();
  void stop();

  // From JACK's sample-rate callback; applied at the next frame boundary.
  void request_output_rate(int rate) { requested_rate_.store(rate, std::memory_order_relaxed); }

 private:
  void loop();
  bool fill_once();  // false when the ring is full enough

  FrameSource& source_;
  AudioRing& ring_;
  const std::size_t lookahead_frames_;
  std::vector<float> pending_;
  std::size_t pending_offset_ = 0;
  std::atomic<int> requested_rate_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace continuo
