// Mrt2Model with backend cuda (its Depthformer on the CudaDepthformer, the decoder on the
// CudaSpectroStreamDecoder, each frame one CudaFrame graph) against backend cpu on the tiny package: what `continuo render
// --backend cuda` plays, without the engine, so the nvcc-only build (build_standalone.sh) runs
// it on a GPU image lacking JACK. Exit 77 where CUDA cannot run (CONTINUO_REQUIRE_CUDA=1: a
// failure). Free running cannot be teacher-forced, so: the same seed draws the same Philox
// numbers on logits equal to fp32 rounding, hence the same codes (a draw would have to land
// within ~1e-7 of a CDF boundary to differ), and the two decoders agree to fp32 rounding
// (test_cuda_spectrostream's bound); a composition bug shows from frame 0. Also: valid audio,
// reset replays the run bit for bit, info().backend and the stages say cuda.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "model/mrt2_model.hpp"
#include "tests/cuda/support.hpp"

namespace {

namespace m = continuo::model;

constexpr int kFrames = 200;
constexpr int kSameFrames = 25;  // at least this many leading frames agree
constexpr float kSampleTolerance = 1e-4f;  // of the CPU signal's peak: the decoders' rounding
const char* const kPackage = CONTINUO_SOURCE_DIR "/tests/fixtures/mrt2/tiny/package";

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// Leading frames whose samples all lie within kSampleTolerance of the CPU's peak.
int agreeing_frames(const std::vector<float>& a, const std::vector<float>& b, std::size_t frame_size) {
  float peak = 0.0f;
  for (float x : b) peak = std::max(peak, std::abs(x));
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(std::abs(a[i] - b[i]) <= kSampleTolerance * peak)) return static_cast<int>(i / frame_size);
  }
  return static_cast<int>(a.size() / frame_size);
}

std::vector<float> render(m::Mrt2Model& model, std::uint64_t seed) {
  model.reset(seed);
  const auto frame_size = static_cast<std::size_t>(model.info().frame_samples * model.info().channels);
  std::vector<float> audio(frame_size * kFrames);
  const continuo::ControlSnapshot control;
  for (int f = 0; f < kFrames; ++f) {
    model.step(control, std::span<float>(audio).subspan(static_cast<std::size_t>(f) * frame_size, frame_size));
  }
  return audio;
}

void compare(m::Mrt2Model& cuda, m::Mrt2Model& cpu) {
  const std::vector<float> on_cuda = render(cuda, 1);
  const std::vector<float> on_cpu = render(cpu, 1);
  const auto frame_size = static_cast<std::size_t>(cuda.info().frame_samples * cuda.info().channels);
  const int same_frames = agreeing_frames(on_cuda, on_cpu, frame_size);
  float peak = 0.0f;
  bool finite = true;
  for (float x : on_cuda) {
    finite = finite && std::isfinite(x);
    peak = std::max(peak, std::abs(x));
  }
  check(finite && peak > 0.0f && peak <= 1.0f, "valid audio on cuda: finite, peak " + std::to_string(peak));
  check(same_frames >= kSameFrames, "cuda plays the cpu's samples (to rounding) for " + std::to_string(same_frames) + " of " +
                                        std::to_string(kFrames) + " frames (want >= " + std::to_string(kSameFrames) + ")");
  check(render(cuda, 1) == on_cuda, "reset(1) on cuda plays the same run again");
  check(render(cuda, 2) != on_cuda, "another seed plays other audio");
  const auto stages = cuda.last_step_stages();
  check(stages.size() == 1 && stages[0].stage == "lm+codec", "stages: lm+codec (one graph per frame)");
}

}  // namespace

int main() {
  const m::ModelPackage package = m::ModelPackage::open(kPackage);
  const m::CudaAvailability cuda = m::cuda_availability(m::Depthformer(package).config());
  if (const auto status = continuo::cuda_test::exit_without_device(cuda.unavailable)) return *status;
  std::printf("device: %s\n", cuda.device.c_str());
  try {
    m::Mrt2Model on_cuda(kPackage, 0, continuo::ModelBackend::cuda);
    m::Mrt2Model on_cpu(kPackage, 0, continuo::ModelBackend::cpu);
    check(on_cuda.info().backend == "cuda" && on_cpu.info().backend == "cpu", "info().backend");
    compare(on_cuda, on_cpu);
  } catch (const std::exception& error) {
    check(false, std::string("exception: ") + error.what());
  }
  std::printf("%s\n", failures == 0 ? "PASS" : "FAILED");
  return failures == 0 ? 0 : 1;
}
