#pragma once

#include <atomic>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "engine/analysis.hpp"
#include "engine/audio_ring.hpp"
#include "engine/frame_source.hpp"
#include "engine/stats.hpp"

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

  // Any thread, returns at once. The generator thread, within a millisecond and without
  // waiting for room in the ring, drops the part of the frame it has not pushed yet, resets
  // the model with this seed and marks everything already in the ring stale
  // (AudioRing::request_skip): playback fades it out over fade_ms and drops it, so the
  // reset is heard after the fade and the time to generate resume_frames of the fresh
  // continuation, not after the lookahead. reset_latency() measures request -> first
  // fresh sample read.
  void request_reset(std::uint64_t seed);
  std::uint64_t resets() const { return resets_.load(std::memory_order_relaxed); }
  ControlLatency& reset_latency() { return reset_latency_; }
  const ControlLatency& reset_latency() const { return reset_latency_; }

  // Ring frames the audio thread has read so far, from any thread but the audio thread's.
  // Counted as pushed minus still readable, pushed read first: a push in between can only
  // make it lag, so a frame is never taken as heard early.
  std::uint64_t frames_read() const;
  ControlLatency& control_latency() { return latency_; }
  const ControlLatency& control_latency() const { return latency_; }
  // Each frame's features (engine/analysis.hpp), queued at the ring position of its first
  // sample, for the main loop to send once frames_read() has passed it.
  AnalysisQueue& analysis() { return analysis_; }
  // Any thread. While false (nobody subscribed to the feed) frames are not analysed and
  // nothing is queued; true from the next frame boundary on. True at construction.
  void set_analysis_wanted(bool wanted) { analysis_wanted_.store(wanted, std::memory_order_relaxed); }
  std::uint64_t frames_analysed() const { return frames_analysed_.load(std::memory_order_relaxed); }

  // One step of the loop, for tests that drive it without the thread: false when the
  // ring is full enough.
  bool fill_once();

 private:
  void loop();
  void make_frame();
  void push_pending();
  void reset_now();

  FrameSource& source_;
  AudioRing& ring_;
  const std::size_t lookahead_frames_;
  std::vector<float> pending_;
  std::size_t pending_offset_ = 0;
  std::atomic<int> requested_rate_{0};
  std::atomic<bool> reset_requested_{false};
  std::atomic<std::uint64_t> reset_seed_{0};
  std::atomic<std::uint64_t> resets_{0};
  std::atomic<std::int64_t> reset_arrived_ns_{0};  // steady clock
  std::atomic<std::uint64_t> frames_pushed_{0};
  ControlLatency latency_;
  ControlLatency reset_latency_;
  Analyser analyser_;
  AnalysisQueue analysis_;
  std::atomic<bool> analysis_wanted_{true};
  std::atomic<std::uint64_t> frames_analysed_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace continuo
