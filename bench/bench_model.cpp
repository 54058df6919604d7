// What one generated frame costs, per stage, for each model package named on the command line:
//
//   bench_model [--warmup N] [--frames N] [--backend cpu|cuda|auto] PACKAGE [[--frames N] PACKAGE ...]
//
// (--frames, --warmup and --backend, model.backend's values, default cpu, apply to the
// packages after them; on cuda the frame is one stage, lm+codec, one graph; lm where the decoder
// stays on the CPU, then codec.) Each package is loaded as the
// engine loads it (Mrt2Model), warmed up, then stepped frame by frame with the default
// controls; Mrt2Model::last_step_stages() splits each step into encoder, temporal, depth and
// codec. The report gives ms per frame p50/p99 per stage and in total, the real-time factor
// (frame duration / ms per frame: above 1 keeps up), the weight bytes each stage must read per
// frame against a measured memory copy bandwidth (a roofline: the share of the time a purely
// memory-bound implementation would need), and the resident set size.
//
// A plain program rather than Google Benchmark: the quantities are distributions over the
// frames of one continuous run (the model streams, so its state carries across steps) broken
// down by stage, which Benchmark's repeated-iteration model does not express.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/config.hpp"
#include "engine/control_state.hpp"
#include "model/mrt2_model.hpp"
#include "model/package.hpp"

namespace continuo {
namespace {

using Clock = std::chrono::steady_clock;

// This thread's CPU time: unlike the wall clock, it leaves out the time other processes
// take the core (the development container is shared).
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// VmRSS / VmHWM of this process, in MiB.
double status_mib(std::string_view key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(key)) return std::strtod(line.c_str() + key.size() + 1, nullptr) / 1024.0;
  }
  return 0.0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(rank);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (rank - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double mean(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

// Bytes copied per second by memcpy of a buffer far larger than the last-level cache (the
// best of several passes): the rate at which a streaming kernel can pull weights from DRAM.
// Each byte is counted once, though memcpy also writes it.
double memcpy_bandwidth() {
  constexpr std::size_t kBytes = std::size_t{512} << 20;
  std::vector<char> src(kBytes, 1), dst(kBytes, 0);
  double best = 1e30;
  for (int pass = 0; pass < 6; ++pass) {
    src[static_cast<std::size_t>(pass) * 4096] = static_cast<char>(pass);
    const auto start = Clock::now();
    std::memcpy(dst.data(), src.data(), kBytes);
    best = std::min(best, ms_since(start));
    if (dst[static_cast<std::size_t>(pass) * 4096] != static_cast<char>(pass)) std::abort();
  }
  return static_cast<double>(kBytes) / (best / 1000.0);
}

const char* const kStages[] = {"encoder", "temporal", "depth", "codec"};
constexpr std::size_t kStageCount = 4;

std::int64_t arch_int(const model::Manifest& m, const char* key, std::int64_t fallback) {
  const auto it = m.architecture.find(key);
  if (it == m.architecture.end()) return fallback;
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return *v;
  return fallback;
}

// Weight bytes a frame reads, per stage: every tensor once, except the embedding tables and
// the logits head, of which a frame reads only some rows. `unique` counts each byte once
// (what must come from memory when the weights do not fit in the caches); `reads` counts the
// depth stack once per RVQ level, as it runs (those repeats can be served from cache).
struct WeightBytes {
  std::array<double, kStageCount> unique{}, reads{};
  double package = 0.0;
};

WeightBytes weight_bytes(const model::ModelPackage& package) {
  const model::Manifest& m = package.manifest();
  const auto levels = static_cast<double>(arch_int(m, "levels", 12));
  const auto codebook = static_cast<double>(arch_int(m, "codebook", 1024));
  constexpr double kStyleRows = 12, kRegularRows = 132;  // conditioning channels per frame
  WeightBytes out;
  for (const std::string& name : package.names()) {
    const model::TensorInfo& info = package.info(name);
    const auto bytes = static_cast<double>(info.end - info.begin);
    out.package += bytes;
    const double rows = info.shape.empty() ? 1.0 : static_cast<double>(info.shape[0]);
    const double row_bytes = bytes / rows;
    double touched = bytes;
    std::size_t stage = 0;
    double repeats = 1.0;
    if (name == "token_embedding") {
      touched = std::min(rows, 2 * levels) * row_bytes;  // last frame's codes, mean and per level
      stage = 1;
    } else if (name == "encoder.style.table") {
      touched = std::min(rows, kStyleRows) * row_bytes;
    } else if (name == "encoder.regular.table") {
      touched = std::min(rows, kRegularRows) * row_bytes;
    } else if (name.starts_with("encoder.")) {
      stage = 0;
    } else if (name.starts_with("temporal.")) {
      stage = 1;
    } else if (name == "depth.logits.w" || name == "depth.logits.b") {
      touched = std::min(rows, levels * codebook) * row_bytes;  // each level reads its rows
      stage = 2;
    } else if (name.starts_with("depth.")) {
      stage = 2;
      repeats = levels;  // adapter, layers and final norm run once per level
    } else if (name == "codec.rvq.embedding") {
      touched = bytes / codebook;  // one codebook row per level
      stage = 3;
    } else if (name.starts_with("codec.")) {
      stage = 3;
    }
    out.unique[stage] += touched;
    out.reads[stage] += touched * repeats;
  }
  return out;
}

struct Options {
  int warmup = 10;
  int frames = 100;
  ModelBackend backend = ModelBackend::cpu;
};

int bench_package(const std::string& dir, const Options& options, double bandwidth) {
  std::printf("\n== %s (%d warm-up frames, %d timed)\n", dir.c_str(), options.warmup,
              options.frames);
  const double rss_before = status_mib("VmRSS:");
  // Read only where a device may run it: the first read creates a CUDA context.
  const bool device_backend = options.backend != ModelBackend::cpu;
  const double gpu_before = device_backend ? model::cuda_memory_used() / 1048576.0 : 0.0;
  const auto load_start = Clock::now();
  model::Mrt2Model model(dir, 0, options.backend);  // no prefill: steady-state frames are what is timed
  const double load_ms = ms_since(load_start);
  const model::ModelPackage package = model::ModelPackage::open(dir);  // for the tensor sizes
  const WeightBytes weights = weight_bytes(package);
  const double rss_loaded = status_mib("VmRSS:");

  const ModelInfo& info = model.info();
  const double frame_ms = 1000.0 * info.frame_samples / info.sample_rate;
  std::vector<float> out(static_cast<std::size_t>(info.frame_samples * info.channels));
  const ControlSnapshot control{};
  model.reset(1);
  for (int i = 0; i < options.warmup; ++i) model.step(control, out);

  std::array<std::vector<double>, kStageCount> stage_ms;
  std::vector<double> device_ms;  // a device frame: one graph, one stage (lm or lm+codec)
  std::string device_stage;
  std::vector<double> total_ms, cpu_ms;
  float peak = 0.0f;
  bool finite = true;
  for (int i = 0; i < options.frames; ++i) {
    const double cpu_start = thread_cpu_ms();
    const auto start = Clock::now();
    model.step(control, out);
    total_ms.push_back(ms_since(start));
    cpu_ms.push_back(thread_cpu_ms() - cpu_start);
    for (const StageTime& s : model.last_step_stages()) {
      if (s.stage == "lm" || s.stage == "lm+codec") {
        device_ms.push_back(s.ms);
        device_stage = s.stage;
      }
      for (std::size_t k = 0; k < kStageCount; ++k) {
        if (s.stage == kStages[k]) stage_ms[k].push_back(s.ms);
      }
    }
    for (float x : out) {
      finite = finite && std::isfinite(x);
      peak = std::max(peak, std::abs(x));
    }
  }
  const double rss_after = status_mib("VmRSS:");
  const double gpu_after = device_backend ? model::cuda_memory_used() / 1048576.0 : 0.0;

  const model::Manifest& m = package.manifest();
  std::printf("model %s on %s: %zu tensors, %.1f MiB of weights; frame %d samples at %d Hz = %.2f ms; "
              "load %.0f ms\n",
              m.name.c_str(), info.backend.c_str(), package.names().size(), weights.package / 1048576.0,
              info.frame_samples, info.sample_rate, frame_ms, load_ms);
  std::printf("output: peak |x| %.3f%s\n", static_cast<double>(peak),
              finite ? "" : " (NOT FINITE)");
  const double total_mean = mean(total_ms);
  std::printf("%-9s %9s %9s %9s %7s %12s %12s %10s %9s\n", "stage", "p50 ms", "p99 ms", "mean ms",
              "share", "weights MiB", "reads MiB", "floor ms", "roofline");
  double unique_all = 0.0, reads_all = 0.0;
  for (std::size_t k = 0; k < kStageCount; ++k) {
    const double unique = weights.unique[k], reads = weights.reads[k];
    unique_all += unique;
    reads_all += reads;
    const double floor_ms = unique / bandwidth * 1000.0;
    const double stage_mean = mean(stage_ms[k]);
    std::printf("%-9s %9.3f %9.3f %9.3f %6.1f%% %12.2f %12.2f %10.3f %8.1f%%\n", kStages[k],
                percentile(stage_ms[k], 50), percentile(stage_ms[k], 99), stage_mean,
                100.0 * stage_mean / total_mean, unique / 1048576.0, reads / 1048576.0, floor_ms,
                stage_mean > 0 ? 100.0 * floor_ms / stage_mean : 0.0);
  }
  if (!device_ms.empty()) {  // on the device: the host's copy bandwidth says nothing of its floor
    const std::size_t stages = device_stage == "lm" ? 3 : kStageCount;  // lm+codec reads the codec's too
    double unique = 0.0, reads = 0.0;
    for (std::size_t k = 0; k < stages; ++k) {
      unique += weights.unique[k];
      reads += weights.reads[k];
    }
    std::printf("%-9s %9.3f %9.3f %9.3f %6.1f%% %12.2f %12.2f %10s %9s\n", device_stage.c_str(),
                percentile(device_ms, 50), percentile(device_ms, 99), mean(device_ms),
                100.0 * mean(device_ms) / total_mean, unique / 1048576.0, reads / 1048576.0, "-", "-");
  }
  // A device frame's floor is its own memory's, not the host copy bandwidth measured here
  // (bench_cuda_kernels measures the device's): its roofline is left out.
  const double floor_ms = unique_all / bandwidth * 1000.0;
  char floor_text[16] = "-", roofline_text[16] = "-";
  if (device_ms.empty()) {
    std::snprintf(floor_text, sizeof floor_text, "%.3f", floor_ms);
    std::snprintf(roofline_text, sizeof roofline_text, "%.1f", 100.0 * floor_ms / total_mean);
  }
  const double p50 = percentile(total_ms, 50), p99 = percentile(total_ms, 99);
  std::printf("%-9s %9.3f %9.3f %9.3f %6.1f%% %12.2f %12.2f %10s %8s%%\n", "total", p50, p99,
              total_mean, 100.0, unique_all / 1048576.0, reads_all / 1048576.0, floor_text, roofline_text);
  const double cpu_p50 = percentile(cpu_ms, 50);
  std::printf("total thread CPU time per frame: p50 %.3f ms, p99 %.3f ms (wall p50 / CPU p50 = %.2f: "
              "above 1, other processes took the core)\n",
              cpu_p50, percentile(cpu_ms, 99), p50 / cpu_p50);
  std::printf("real-time factor (%.2f ms frame / ms per frame): %.2f at p50, %.2f at p99, %.2f on CPU "
              "time p50 -> %s\n",
              frame_ms, frame_ms / p50, frame_ms / p99, frame_ms / cpu_p50,
              frame_ms / p99 >= 1.0 ? "real time" : "NOT real time");
  std::printf("RSS: %.0f MiB before load, %.0f MiB loaded, %.0f MiB after stepping "
              "(mapped weights count once touched); peak %.0f MiB\n",
              rss_before, rss_loaded, rss_after, status_mib("VmHWM:"));
  if (!device_ms.empty()) {
    std::printf("GPU memory in use: %.0f MiB before load, %.0f MiB after stepping: %.0f MiB for this model\n",
                gpu_before, gpu_after, gpu_after - gpu_before);
  }
  std::printf("RESULT package=%s backend=%s p50_ms=%.3f p99_ms=%.3f cpu_p50_ms=%.3f rtf_p50=%.3f "
              "roofline_pct=%s rss_mib=%.0f gpu_mib=%.0f\n",
              m.name.c_str(), info.backend.c_str(), p50, p99, cpu_p50, frame_ms / p50, roofline_text, rss_after,
              gpu_after - gpu_before);
  std::fflush(stdout);
  return finite ? 0 : 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_model [--warmup N] [--frames N] [--backend cpu|cuda|auto] PACKAGE "
               "[[--frames N] PACKAGE ...]\n");
  return 2;
}

}  // namespace
}  // namespace continuo

int main(int argc, char** argv) {
  using namespace continuo;
  Options options;
  std::vector<std::pair<std::string, Options>> runs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--frames" || arg == "--warmup") && i + 1 < argc) {
      const int n = std::atoi(argv[++i]);
      if (n < 0 || (arg == "--frames" && n == 0)) return usage();
      (arg == "--frames" ? options.frames : options.warmup) = n;
    } else if (arg == "--backend" && i + 1 < argc) {
      try {  // model.backend's own values and error
        options.backend = load_config("", {std::string("model.backend=") + argv[++i]}).model.backend;
      } catch (const ConfigError& error) {
        std::fprintf(stderr, "bench_model: --backend: %s\n", error.what());
        return 2;
      }
    } else if (arg.starts_with("-")) {
      return usage();
    } else {
      runs.emplace_back(std::string(arg), options);
    }
  }
  if (runs.empty()) return usage();

  std::ifstream loadavg("/proc/loadavg");
  std::string load1, load5;
  loadavg >> load1 >> load5;
  std::printf("load average %s (1 min), %s (5 min) on %u cores: other work shares them\n",
              load1.c_str(), load5.c_str(), std::thread::hardware_concurrency());
  const double bandwidth = memcpy_bandwidth();
  std::printf("memcpy bandwidth (512 MiB buffer, best of 6): %.2f GB/s\n", bandwidth / 1e9);
  // The copy's buffers are gone; restart the peak-RSS count (VmHWM) without them.
  std::ofstream("/proc/self/clear_refs") << "5";
  int status = 0;
  for (const auto& [dir, run_options] : runs) {
    try {
      status |= bench_package(dir, run_options, bandwidth);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "bench_model: %s: %s\n", dir.c_str(), error.what());
      status = 1;
    }
  }
  return status;
}
