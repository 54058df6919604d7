// One frame = one graph (model/cuda/cuda_frame.hpp, issue 4; CTest label `cuda`): the
// CudaFrame's joint graph (Depthformer step + SpectroStream decode, the codes passed on the
// device) against the same two runtimes stepped apart (CudaDepthformer::step, then
// CudaSpectroStreamDecoder::decode of the codes through the host), on the tiny package and on
// the bundled model (bf16 weights, the phase_accumulate decoder).
//
//   build/tests/cuda/test_cuda_frame [PACKAGE ...]   exit 0 pass, 1 fail
//   no usable device: prints "no CUDA device: skipping" and exits 77 (ctest: skipped),
//   unless CONTINUO_REQUIRE_CUDA=1 (then it fails); CONTINUO_TEST_SEED=<n> replays the run.
//
// Per package: 1. 40 frames from both paths, same conditioning, settings and seed: the same
// codes and bit-identical samples (the same kernels on the same inputs; a decode that read the
// codes before the step wrote them, or the previous frame's, differs at once). 2. After both
// runtimes' reset, the joint frame's launches issued directly: bit-identical to its graph
// replay. 3. An output span of the wrong size is refused before anything runs: the next frame
// still matches.
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/cuda.hpp"
#include "model/cuda/cuda_depthformer.hpp"
#include "model/cuda/cuda_frame.hpp"
#include "model/cuda/cuda_spectrostream.hpp"
#include "model/depthformer.hpp"
#include "model/package.hpp"
#include "model/spectrostream.hpp"
#include "tests/cuda/support.hpp"

namespace {

using continuo::cuda_test::Report;
using continuo::cuda_test::run_cases;
namespace m = continuo::model;
namespace mc = continuo::model::cuda;

constexpr std::size_t kFrames = 40;

// Style tokens 0 and no notes, then a note held from frame 10 and the drum flag on from frame
// 20, so the frames differ in what they ask.
m::FrameConditioning conditioning_at(std::size_t frame) {
  m::FrameConditioning c;
  if (frame >= 10) c.notes[60] = 1;
  if (frame >= 20) c.drum = 1;
  return c;
}

struct Run {
  std::vector<m::FrameCodes> codes;
  std::vector<float> samples;
};

template <typename Step>
Run run(std::size_t frame_floats, Step&& step) {
  Run r{std::vector<m::FrameCodes>(kFrames), std::vector<float>(kFrames * frame_floats)};
  for (std::size_t t = 0; t < kFrames; ++t) {
    r.codes[t] = step(conditioning_at(t), std::span<float>(r.samples).subspan(t * frame_floats, frame_floats));
  }
  return r;
}

double differences(const Run& a, const Run& b) {
  std::size_t n = 0;
  for (std::size_t t = 0; t < a.codes.size(); ++t) n += a.codes[t] != b.codes[t];
  n += std::memcmp(a.samples.data(), b.samples.data(), a.samples.size() * sizeof(float)) != 0;
  return static_cast<double>(n);
}

void check_package(Report& report, const std::string& dir, std::uint64_t seed) {
  const m::ModelPackage package = m::ModelPackage::open(dir);
  const m::Depthformer lm_host(package);
  const m::SpectroStreamDecoder codec_host(package);
  mc::CudaDepthformer joint_lm(lm_host), apart_lm(lm_host);
  mc::CudaSpectroStreamDecoder joint_codec(codec_host), apart_codec(codec_host);
  mc::CudaFrame frame(joint_lm, joint_codec);
  const std::size_t frame_floats = 2 * static_cast<std::size_t>(codec_host.frame_samples());
  const m::SamplingParams params{1.0f, 0, seed};
  const std::string name = package.manifest().name;

  const Run joint = run(frame_floats, [&](const m::FrameConditioning& c, std::span<float> out) {
    return frame.step(c, params, out);
  });
  const Run apart = run(frame_floats, [&](const m::FrameConditioning& c, std::span<float> out) {
    const m::FrameCodes codes = apart_lm.step(c, params);
    apart_codec.decode(codes, out);
    return codes;
  });
  std::size_t zeros = 0;  // a decoder that never ran would leave only zeros on both paths
  for (float x : joint.samples) zeros += x == 0.0f;
  report.record(name + ": joint graph vs step + decode apart, 40 frames", differences(joint, apart), 0.0,
                zeros == joint.samples.size() ? 1 : 0);

  joint_lm.reset();
  joint_codec.reset();
  const Run direct = run(frame_floats, [&](const m::FrameConditioning& c, std::span<float> out) {
    return frame.step(c, params, out, mc::Launch::direct);
  });
  report.record(name + ": joint graph vs its launches issued directly", differences(joint, direct), 0.0, 0);

  std::vector<float> wrong(frame_floats + 1), out(frame_floats), want(frame_floats);
  std::size_t refused = 0;
  try {
    frame.step(conditioning_at(0), params, wrong);
  } catch (const std::invalid_argument&) {
    refused = 1;
  }
  const m::FrameCodes got = frame.step(conditioning_at(0), params, out);
  const m::FrameCodes expected = apart_lm.step(conditioning_at(0), params);
  apart_codec.decode(expected, want);
  const bool same = got == expected && std::memcmp(out.data(), want.data(), out.size() * sizeof(float)) == 0;
  report.record(name + ": a wrong output size is refused before the frame runs", same ? 0.0 : 1.0, 0.0, 1 - refused);
}

}  // namespace

int main(int argc, char** argv) {
  const continuo::kernels::cuda::Probe probe = continuo::kernels::cuda::probe_devices();
  if (const auto status = continuo::cuda_test::exit_without_device(probe.reason)) return *status;
  const std::uint64_t seed = continuo::cuda_test::test_seed();
  std::printf("device: %s\nCONTINUO_TEST_SEED=%llu\n", probe.name.c_str(), static_cast<unsigned long long>(seed));
  std::vector<std::string> packages(argv + 1, argv + argc);
  if (packages.empty()) {
    packages = {CONTINUO_SOURCE_DIR "/tests/fixtures/mrt2/tiny/package", CONTINUO_SOURCE_DIR "/models/default"};
  }
  return run_cases(seed, [&](Report& report) {
    for (const std::string& dir : packages) check_package(report, dir, seed);
  });
}
