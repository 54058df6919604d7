#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

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
  std::vector<StagePercentiles> stages;  // the model's own breakdown of gen_ms
  std::string midi_json;                  // MIDI input counters, a JSON object; empty: none

  std::string to_json() const;
};

// CPU time of this process over its wall-clock lifetime, in percent of one core.
double process_cpu_percent();

}  // namespace continuo
