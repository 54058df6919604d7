// The CUDA Depthformer (model/cuda/cuda_depthformer.hpp) against the CPU runtime
// (model/depthformer.hpp) on the tiny package (issue 4; CTest label `cuda`).
//
//   build/tests/cuda/test_cuda_depthformer [package-dir]   exit 0 pass, 1 fail
//   no usable device: prints "no CUDA device: skipping" and exits 77 (ctest: skipped),
//   unless CONTINUO_REQUIRE_CUDA=1 (then it fails); CONTINUO_TEST_SEED=<n> replays the
//   conditioning and sampling seed.
//
// 1. Teacher forcing, 120 frames: the CPU samples each frame; the device runs the same frame
//    (graph replay) forced to the CPU's codes. Every level's logits must agree (max |d| /
//    max |ref| ≤ 1e-5 for fp32 weights, 1e-2 for bf16, the bounds), and the device
//    sampler, given its own logits and the same Philox key, must draw the CPU's codes.
// 2. Graph replay against direct launches: two runtimes, the same 40 free-running frames:
//    the same codes and bit-identical logits (the graph is the launches, nothing else).
// 3. Free running, 120 frames on the device: every code in the codebook; then the CPU is
//    forced to the device's codes and its logits must agree with the device's, which checks
//    that the device fed each sampled (level-relative) code back as its full vocabulary id;
//    after reset() the device draws the same codes again.
// 4. Prefill (Mrt2Model's: encode + set_previous + temporal_step, 10 frames, no depth) on both,
//    then 40 teacher-forced frames: logits as in 1.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/cuda.hpp"
#include "kernels/ops.hpp"
#include "model/cuda/cuda_depthformer.hpp"
#include "model/depthformer.hpp"
#include "model/package.hpp"
#include "tests/cuda/support.hpp"

namespace {

using continuo::cuda_test::Report;
using continuo::cuda_test::run_cases;
namespace m = continuo::model;
namespace mc = continuo::model::cuda;

constexpr std::size_t kFrames = 120;
constexpr std::size_t kGraphFrames = 40;
constexpr std::size_t kPrefillFrames = 10;  // > the tiny temporal rings' 7 and 5 slots
const int kLevels = m::kLmLevels;

// Random valid conditioning (raw values −1 .. vocab − 1 − offset) for every frame.
class ConditioningSource {
 public:
  ConditioningSource(const m::DepthformerConfig& config, std::uint64_t seed)
      : config_(config), rng_(seed) {}

  m::FrameConditioning next() {
    m::FrameConditioning c;
    for (int& token : c.style_tokens) token = value(config_.style_vocab);
    for (int& note : c.notes) note = value(config_.note_vocab);
    c.drum = value(config_.drum_vocab);
    c.cfg_style_token = value(config_.cfg_vocab);
    c.cfg_notes_token = value(config_.cfg_vocab);
    c.cfg_drum_token = value(config_.cfg_drum_vocab);
    return c;
  }

 private:
  int value(std::size_t vocab) {
    const int top = static_cast<int>(vocab) - 1 - config_.conditioning_offset;
    return std::uniform_int_distribution<int>(-1, top)(rng_);
  }
  const m::DepthformerConfig& config_;
  std::mt19937_64 rng_;
};

// The CPU frame's logits, all levels in a row (what CudaDepthformer::last_logits returns).
class LogitsRecorder final : public m::DepthformerObserver {
 public:
  explicit LogitsRecorder(std::size_t codebook)
      : logits_(kLevels * codebook), codebook_(codebook) {}
  void logits(std::size_t level, std::span<const float> values) override {
    std::copy(values.begin(), values.end(), logits_.begin() + level * codebook_);
  }
  const std::vector<float>& all() const { return logits_; }

 private:
  std::vector<float> logits_;
  std::size_t codebook_;
};

// Samples as Depthformer::step does (sample_seeded on the capped logits), or forces `codes`.
class CpuPicker final : public m::LevelPicker {
 public:
  CpuPicker(const m::DepthformerConfig& config, const m::SamplingParams& params,
            std::uint64_t frame, const m::FrameCodes* forced)
      : config_(config), params_(params), frame_(frame), forced_(forced),
        scratch_(continuo::kernels::sample_scratch_size({config.codebook, 0, 1.0f})) {}

  std::uint32_t pick(std::size_t level, std::span<const float> capped) override {
    if (forced_ != nullptr) return static_cast<std::uint32_t>((*forced_)[level]);
    const continuo::kernels::SampleShape shape{
        config_.codebook, static_cast<std::size_t>(params_.top_k), params_.temperature};
    const continuo::kernels::SampleKey key{params_.seed, frame_, static_cast<std::uint32_t>(level)};
    return continuo::kernels::sample_seeded(shape, capped.data(), key, scratch_.data());
  }

 private:
  const m::DepthformerConfig& config_;
  const m::SamplingParams& params_;
  std::uint64_t frame_;
  const m::FrameCodes* forced_;
  std::vector<std::uint32_t> scratch_;
};

// One CPU frame: its codes, its logits into `logits`.
m::FrameCodes cpu_frame(m::Depthformer& cpu, const m::FrameConditioning& conditioning,
                        const m::SamplingParams& params, const m::FrameCodes* forced,
                        std::vector<float>& logits) {
  LogitsRecorder recorder(cpu.config().codebook);
  CpuPicker picker(cpu.config(), params, cpu.frame(), forced);
  const m::FrameCodes codes = cpu.step_traced(conditioning, picker, &recorder);
  logits = recorder.all();
  return codes;
}

// max |a − b| / max |b|; non-finite values in a count as bad.
double relative_error(const std::vector<float>& a, const std::vector<float>& b, std::size_t& bad) {
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(a[i])) ++bad;
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return scale > 0.0 ? diff / scale : diff;
}

std::size_t invalid_codes(const m::FrameCodes& codes, std::size_t codebook) {
  std::size_t bad = 0;
  for (const int code : codes) bad += code < 0 || static_cast<std::size_t>(code) >= codebook;
  return bad;
}

std::size_t differing_codes(const m::FrameCodes& a, const m::FrameCodes& b) {
  std::size_t n = 0;
  for (int level = 0; level < kLevels; ++level) n += a[level] != b[level];
  return n;
}

double tolerance_of(const m::ModelPackage& package) {
  const bool bf16 = package.info("depth.logits.w").dtype == continuo::kernels::DType::bf16;
  return bf16 ? 1e-2 : 1e-5;
}

// The CPU samples each frame; the device runs it forced to the CPU's codes.
struct ForcedRun {
  double error = 0.0;  // logits, max |d| / max |ref| per frame, worst frame
  std::size_t bad = 0;
  std::size_t draws_differing = 0;  // the device's own draws against the CPU's codes
};

ForcedRun run_forced(m::Depthformer& cpu, mc::CudaDepthformer& gpu, ConditioningSource& source,
                     const m::SamplingParams& params, std::size_t frames) {
  ForcedRun run;
  std::vector<float> cpu_logits;
  for (std::size_t t = 0; t < frames; ++t) {
    const m::FrameConditioning c = source.next();
    const m::FrameCodes codes = cpu_frame(cpu, c, params, nullptr, cpu_logits);
    run.bad += differing_codes(gpu.step_forced(c, params, codes), codes);
    run.error = std::max(run.error, relative_error(gpu.last_logits(), cpu_logits, run.bad));
    run.draws_differing += differing_codes(gpu.last_sampled(), codes);
  }
  return run;
}

void teacher_forced(Report& report, const m::ModelPackage& package, std::uint64_t seed) {
  m::Depthformer cpu(package), twin(package);
  mc::CudaDepthformer gpu(twin);
  ConditioningSource source(cpu.config(), seed);
  const ForcedRun run = run_forced(cpu, gpu, source, {1.3f, 5, seed}, kFrames);
  report.record("teacher forced: 120 frames x 12 levels, logits", run.error,
                tolerance_of(package), run.bad);
  report.record("teacher forced: device draws differing from the CPU's",
                static_cast<double>(run.draws_differing), 0.0, 0);
}

// Mrt2Model's prefill (encode + set_previous + temporal_step, no depth) on both, longer than
// the temporal rings, then teacher-forced frames.
void prefilled(Report& report, const m::ModelPackage& package, std::uint64_t seed) {
  m::Depthformer cpu(package), twin(package);
  mc::CudaDepthformer gpu(twin);
  ConditioningSource source(cpu.config(), seed + 3);
  std::mt19937_64 rng(seed + 3);
  m::FrameCodes silence{};
  for (int& code : silence) {
    code = std::uniform_int_distribution<int>(0, static_cast<int>(cpu.config().codebook) - 1)(rng);
  }
  const m::FrameConditioning held = source.next();
  for (std::size_t frame = 0; frame < kPrefillFrames; ++frame) {
    cpu.encode(held);
    cpu.set_previous(silence);
    cpu.temporal_step();
  }
  cpu.set_previous(silence);
  gpu.prefill(held, silence, static_cast<int>(kPrefillFrames));
  const ForcedRun run = run_forced(cpu, gpu, source, {1.3f, 5, seed + 3}, kGraphFrames);
  report.record("prefill 10 frames, then 40 teacher-forced frames, logits", run.error,
                tolerance_of(package), run.bad);
}

void graph_against_direct(Report& report, const m::ModelPackage& package, std::uint64_t seed) {
  const m::Depthformer twin(package);
  mc::CudaDepthformer replayed(twin), direct(twin);
  const m::SamplingParams params{1.1f, 8, seed + 1};
  ConditioningSource source(replayed.config(), seed + 1);
  std::size_t differing = 0, bad = 0;
  for (std::size_t t = 0; t < kGraphFrames; ++t) {
    const m::FrameConditioning c = source.next();
    const m::FrameCodes a = replayed.step(c, params, mc::Launch::graph);
    const m::FrameCodes b = direct.step(c, params, mc::Launch::direct);
    differing += differing_codes(a, b);
    bad += invalid_codes(a, replayed.config().codebook);
    const std::vector<float> la = replayed.last_logits(), lb = direct.last_logits();
    differing += std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)) != 0;
  }
  report.record("graph replay vs direct launches: 40 frames (differences)",
                static_cast<double>(differing), 0.0, bad);
}

void free_running(Report& report, const m::ModelPackage& package, std::uint64_t seed) {
  m::Depthformer cpu(package), twin(package);
  mc::CudaDepthformer gpu(twin);
  const m::SamplingParams params{1.0f, 0, seed + 2};
  ConditioningSource source(gpu.config(), seed + 2);
  std::vector<m::FrameConditioning> frames;
  std::vector<m::FrameCodes> drawn;
  double error = 0.0;
  std::size_t bad = 0;
  std::vector<float> cpu_logits;
  for (std::size_t t = 0; t < kFrames; ++t) {
    frames.push_back(source.next());
    drawn.push_back(gpu.step(frames.back(), params));
    bad += invalid_codes(drawn.back(), gpu.config().codebook);
    cpu_frame(cpu, frames.back(), params, &drawn.back(), cpu_logits);
    error = std::max(error, relative_error(gpu.last_logits(), cpu_logits, bad));
  }
  report.record("free running: 120 frames, CPU forced to the device's codes, logits", error,
                tolerance_of(package), bad);
  gpu.reset();
  std::size_t differing = 0;
  for (std::size_t t = 0; t < kGraphFrames; ++t) {
    differing += differing_codes(gpu.step(frames[t], params), drawn[t]);
  }
  report.record("free running: after reset, 40 frames drawn again (differences)",
                static_cast<double>(differing), 0.0, 0);
}

}  // namespace

int main(int argc, char** argv) {
  const continuo::kernels::cuda::Probe probe = continuo::kernels::cuda::probe_devices();
  if (const auto status = continuo::cuda_test::exit_without_device(probe.reason)) return *status;
  const std::string dir =
      argc > 1 ? argv[1] : CONTINUO_SOURCE_DIR "/tests/fixtures/mrt2/tiny/package";
  const std::uint64_t seed = continuo::cuda_test::test_seed();
  std::printf("device: %s\npackage: %s\nCONTINUO_TEST_SEED=%llu\n", probe.name.c_str(),
              dir.c_str(), static_cast<unsigned long long>(seed));
  return run_cases(seed, [&](Report& report) {
    const m::ModelPackage package = m::ModelPackage::open(dir);
    teacher_forced(report, package, seed);
    graph_against_direct(report, package, seed);
    free_running(report, package, seed);
    prefilled(report, package, seed);
  });
}
