#include "engine/stats.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace continuo {

DurationWindow::DurationWindow(std::size_t capacity) : ring_(capacity) {}

void DurationWindow::add(double ms) {
  std::lock_guard lock(mutex_);
  ring_[next_] = ms;
  next_ = (next_ + 1) % ring_.size();
  ++count_;
}

double DurationWindow::percentile(double p) const {
  std::vector<double> values;
  {
    std::lock_guard lock(mutex_);
    const std::size_t n = std::min<std::uint64_t>(count_, ring_.size());
    values.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (values.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  const auto index = std::clamp<std::size_t>(rank, 1, values.size()) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

std::uint64_t DurationWindow::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void ControlLatency::frame_queued(std::span<const ControlChange> changes, std::uint64_t start) {
  std::lock_guard lock(mutex_);
  for (const ControlChange& change : changes) {
    if (queued_.size() == kMaxQueued) queued_.pop_front();
    queued_.push_back({change.arrived, start});
  }
}

void ControlLatency::moved(std::uint64_t after, std::uint64_t to) {
  std::lock_guard lock(mutex_);
  for (Queued& q : queued_) {
    if (q.start > after) q.start = to;
  }
}

void ControlLatency::resolve(std::uint64_t read, TimePoint now, int rate) {
  std::lock_guard lock(mutex_);
  while (!queued_.empty() && queued_.front().start < read) {
    const Queued& q = queued_.front();
    const double since_start_ms = rate > 0 ? 1000.0 * static_cast<double>(read - q.start) / rate : 0.0;
    const double ms = std::chrono::duration<double, std::milli>(now - q.arrived).count() - since_start_ms;
    measured_.add(std::max(ms, 0.0));  // a change cannot be heard before it arrived
    queued_.pop_front();
  }
}

namespace {

// A JSON string literal: a model name from the config may hold any character.
std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      quoted += escape;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

}  // namespace

std::string StatusSnapshot::to_json() const {
  std::ostringstream out;
  out.precision(4);
  out << std::fixed << "{\"frames_generated\":" << frames_generated << ",\"frames_played\":" << frames_played
      << ",\"ring_fill_ms\":" << ring_fill_ms << ",\"underruns\":" << underruns << ",\"xruns\":" << xruns
      << ",\"reconnects\":" << reconnects << ",\"gen_ms_p50\":" << gen_ms_p50 << ",\"gen_ms_p99\":" << gen_ms_p99
      << ",\"dsp_load_percent\":" << dsp_load_percent << ",\"cpu_percent\":" << cpu_percent
      << ",\"control_ms_p50\":" << control_ms_p50 << ",\"control_ms_p95\":" << control_ms_p95
      << ",\"control_samples\":" << control_samples << ",\"reset_ms_p50\":" << reset_ms_p50
      << ",\"reset_ms_p95\":" << reset_ms_p95 << ",\"resets_heard\":" << resets_heard
      << ",\"analysed_frames\":" << analysed_frames << ",\"model\":" << json_string(model)
      << ",\"model_failures\":" << model_failures << ",\"sample_rate\":" << sample_rate << ",\"buffer_frames\":" << buffer_frames
      << ",\"recording\":" << (recording ? 1 : 0) << ",\"record_dropped_frames\":" << record_dropped_frames
      << ",\"stages\":{";
  for (std::size_t i = 0; i < stages.size(); ++i) {
    out << (i ? "," : "") << "\"" << stages[i].stage << "\":{\"ms_p50\":" << stages[i].p50
        << ",\"ms_p99\":" << stages[i].p99 << "}";
  }
  out << "}";
  if (!midi_json.empty()) out << ",\"midi\":" << midi_json;
  if (link_peers >= 0) {
    out << ",\"link\":{\"peers\":" << link_peers << ",\"tempo\":" << link_tempo << ",\"beat\":" << link_beat
        << ",\"phase\":" << link_phase << "}";
  }
  out << "}";
  return out.str();
}

double process_cpu_percent() {
  static const auto started = std::chrono::steady_clock::now();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return wall_s > 0.0 ? 100.0 * cpu_s / wall_s : 0.0;
}

}  // namespace continuo
