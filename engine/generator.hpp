#pragma once

#include <atomic>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
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
//
// A model whose step or reset throws (a device error from a GPU backend) does not end the
// thread: the generator logs the reason once, fades the lookahead out as a reset does and
// plays silence; after each second of silence it resets the model (with the last reset's
// seed) and tries one step, and plays on from the first that succeeds, faded in.
class Generator {
 public:
  Generator(FrameSource& source, AudioRing& ring, std::size_t lookahead_frames, std::uint64_t reset_seed = 0);
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

  // Any thread, returns at once. At the next frame boundary the generator steps next
  // instead, as a fresh continuation: the lookahead fades out as on request_reset. next
  // must be reset already (with seed, which later resets and retries use too). Once
  // models_swapped() has counted it, the previous model is never touched again and its
  // owner may destroy it, off this thread.
  void request_model(Model& next, std::uint64_t seed);
  std::uint64_t models_swapped() const { return models_swapped_.load(std::memory_order_acquire); }

  // Any thread but the generator's; waits for the next frame boundary. There, when the
  // model playing is the one whose encoder made tokens, the generator resets it to that
  // context (Model::reset_to_context, with the reset seed) and the lookahead fades out as
  // on request_reset; "" then. Otherwise why not: the model was switched since (its
  // tokens mean nothing to another), the model failed, or the generator stopped.
  std::string apply_context(const AudioEncoder& from, std::span<const int> tokens);

  // The model failed (step_failures() counts each time it stopped stepping) and whether it
  // still does; the latest reason. Any thread.
  std::uint64_t step_failures() const { return step_failures_.load(std::memory_order_relaxed); }
  std::uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }
  bool failing() const { return failing_flag_.load(std::memory_order_relaxed); }
  std::string failure_reason() const;
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
  void swap_now(Model& next);
  struct ContextRequest {
    const AudioEncoder* from;
    std::span<const int> tokens;
    std::string why;  // the generator's answer
  };
  void context_now(ContextRequest& request);
  std::uint64_t drop_lookahead();
  void step_or_fail();
  void retry_or_play_silence();
  void start_failing(const std::string& reason);
  void play_silence();

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
  std::atomic<Model*> next_model_{nullptr};
  std::atomic<std::uint64_t> models_swapped_{0};
  std::atomic<ContextRequest*> context_request_{nullptr};
  std::atomic<std::uint64_t> contexts_answered_{0};
  bool failing_ = false;  // generator thread; failing_flag_ mirrors it for others
  std::size_t silence_since_retry_ = 0;  // frames at the output rate
  std::atomic<bool> failing_flag_{false};
  std::atomic<std::uint64_t> step_failures_{0};
  std::atomic<std::uint64_t> recoveries_{0};
  mutable std::mutex failure_mutex_;
  std::string failure_reason_;
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
