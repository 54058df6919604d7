#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/control_state.hpp"

namespace continuo {

// Keeps the most recent durations of one recurring job and reports their percentiles.
class DurationWindow {
 public:
  explicit DurationWindow(std::size_t capacity = 1024);
  void add(double ms);
  double percentile(double p) const;  // 0 when empty
  std::uint64_t count() const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::uint64_t count_ = 0;
};

// Control latency (issue 5, timing): from a change's arrival to the first output sample
// of the first frame that carries it. Positions count frames through the audio ring (at
// the output rate): the generator knows where each frame starts, the main loop knows how
// far the audio thread has read, so the audio thread does nothing new. Non-RT threads only.
class ControlLatency {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Generator: the frame whose first sample is ring position `start` carries `changes`.
  void frame_queued(std::span<const ControlChange> changes, std::uint64_t start);

  // Main loop: the audio thread has read `read` ring frames as of `now`. Each queued change
  // whose frame start it has passed is measured, the frames read since that start taken
  // back at `rate` Hz, so the 20 ms poll does not inflate the number (within one period).
  void resolve(std::uint64_t read, TimePoint now, int rate);

  // A reset dropped the frames starting after `after`: what they carried first is heard
  // from `to` (the fresh continuation's first frame) instead.
  void moved(std::uint64_t after, std::uint64_t to);

  double percentile(double p) const { return measured_.percentile(p); }  // ms; 0 when none
  std::uint64_t count() const { return measured_.count(); }

 private:
  struct Queued {
    TimePoint arrived;
    std::uint64_t start;
  };
  static constexpr std::size_t kMaxQueued = 4096;  // a flood keeps the newest

  std::mutex mutex_;
  std::deque<Queued> queued_;  // in ring order: frames are queued in the order they play
  DurationWindow measured_;
};

struct StagePercentiles {
  std::string stage;
  double p50 = 0.0;
  double p99 = 0.0;
};

// What the engine reports on SIGUSR1 and at exit, one JSON object per line.
struct StatusSnapshot {
  std::uint64_t frames_generated = 0;
  std::uint64_t frames_played = 0;
  double ring_fill_ms = 0.0;
  std::uint64_t underruns = 0;
  std::uint64_t xruns = 0;
  std::uint64_t reconnects = 0;
  double gen_ms_p50 = 0.0;
  double gen_ms_p99 = 0.0;
  double dsp_load_percent = 0.0;   // JACK's estimate of its cycle used
  double cpu_percent = 0.0;        // this process, over its lifetime, of one core
  int sample_rate = 0;
  int buffer_frames = 0;
  double control_ms_p50 = 0.0;      // control latency, see ControlLatency; 0 before any
  double control_ms_p95 = 0.0;
  std::uint64_t control_samples = 0;  // changes measured so far
  double reset_ms_p50 = 0.0;          // /continuo/reset -> first sample of the fresh continuation read
  double reset_ms_p95 = 0.0;
  std::uint64_t resets_heard = 0;
  std::uint64_t analysed_frames = 0;  // frames the analysis feed analysed (only while subscribed)
  std::vector<StagePercentiles> stages;  // the model's own breakdown of gen_ms
  std::string midi_json;                  // MIDI input counters, a JSON object; empty: none
  std::string model;                      // the name the playing model was loaded by
  std::uint64_t model_failures = 0;       // times the model's step failed (engine/generator.hpp)
  bool recording = false;                 // a take is being recorded (engine/recorder.hpp)
  std::uint64_t record_dropped_frames = 0;  // frames the recorder's writer had no room for
  int link_peers = -1;                    // other Ableton Link peers; -1: link.enabled is false
  double link_tempo = 0.0;                // the Link session's bpm, beat and phase; 0 without Link
  double link_beat = 0.0;
  double link_phase = 0.0;

  std::string to_json() const;
};

// CPU time of this process over its wall-clock lifetime, in percent of one core.
double process_cpu_percent();

}  // namespace continuo
