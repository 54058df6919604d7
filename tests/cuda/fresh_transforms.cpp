// Part 2 of the CUDA parity test for the codec's stateless ops: fft, stft, rvq_decode,
// rvq_codebook_norms and rvq_encode, each against its CPU op on fresh random inputs.
// fft and stft: tolerance kTolerance (the device sums the DFT directly, the CPU runs a
// mixed-radix FFT: both within fp32 rounding of the exact transform, ~1e-6 of its scale).
// The RVQ ops do the CPU's float operations in its order: compared bit for bit (0 differing
// bits, 0 differing codes), including a level whose nearest codeword appears twice (the tie
// goes to the lower index).
#include <cuda_runtime_api.h>

#include <complex>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/fft/fft_cuda.hpp"
#include "kernels/rvq_decode/rvq_decode_cuda.hpp"
#include "kernels/rvq_encode/rvq_encode_cuda.hpp"
#include "kernels/stft/stft_cuda.hpp"
#include "tests/cuda/support.hpp"

namespace continuo::cuda_test {
namespace {

// A plan's twiddles on the device (std::complex<float> is laid out as float2).
struct DevicePlan {
  cu::DeviceBuffer<std::complex<float>> twiddles;
  cu::DeviceFftPlan plan;
};

DevicePlan upload_plan(const k::FftPlan& plan) {
  DevicePlan d{to_device(plan.twiddles.data(), plan.twiddles.size()), {}};
  d.plan = {plan.n, reinterpret_cast<const float2*>(d.twiddles.data())};
  return d;
}

void fft_case(Report& r, h::Rng& rng, int n, std::size_t batch, k::FftDirection direction) {
  const k::FftPlan plan = k::make_fft_plan(n);
  const DevicePlan device_plan = upload_plan(plan);
  const std::size_t floats = 2 * batch * static_cast<std::size_t>(n);
  const auto x = h::uniform(rng, floats, -1.0f, 1.0f);
  std::vector<float> want(floats);
  const auto* in = reinterpret_cast<const std::complex<float>*>(x.data());
  auto* out = reinterpret_cast<std::complex<float>*>(want.data());
  for (std::size_t b = 0; b < batch; ++b) k::fft(plan, direction, in + b * n, out + b * n);
  const auto dx = upload(x.data(), floats);
  Poisoned<float> y(floats);
  cu::fft(nullptr, device_plan.plan, direction, batch, reinterpret_cast<const float2*>(dx.data),
          reinterpret_cast<float2*>(y.data()));
  std::size_t bad = 0;
  const auto got = y.read(bad);
  r.record("fft_n" + std::to_string(n) + "_batch" + std::to_string(batch) +
               (direction == k::FftDirection::inverse ? "_inverse" : "_forward"),
           relative_error(got, want), kTolerance, bad + nonfinite(got));
}

void stft_case(Report& r, h::Rng& rng, const k::StftShape& s) {
  const k::FftPlan plan = k::make_fft_plan(s.fft_size);
  const DevicePlan device_plan = upload_plan(plan);
  std::vector<float> window(static_cast<std::size_t>(s.fft_size));
  k::hann_window(s.fft_size, window.data());
  const std::size_t in = (static_cast<std::size_t>(s.frames - 1) * s.hop + s.fft_size) * s.channels;
  const std::size_t out = static_cast<std::size_t>(s.channels) * s.frames * (s.fft_size / 2) * 2;
  const auto x = h::uniform(rng, in, -1.0f, 1.0f);
  std::vector<float> want(out);
  std::vector<float> scratch(k::stft_scratch_size(s));
  k::stft(s, plan, window.data(), x.data(), scratch.data(), want.data());
  const auto dx = upload(x.data(), in);
  const auto dwindow = upload(window.data(), window.size());
  Poisoned<float> y(out);
  cu::stft(nullptr, s, device_plan.plan, dwindow.data, dx.data, y.data());
  std::size_t bad = 0;
  const auto got = y.read(bad);
  r.record("stft_n" + std::to_string(s.fft_size) + "_hop" + std::to_string(s.hop) + "_ch" +
               std::to_string(s.channels) + "_t" + std::to_string(s.frames),
           relative_error(got, want), kTolerance, bad + nonfinite(got));
}

std::string rvq_name(const char* op, const k::RvqShape& s, k::DType dtype) {
  return std::string(op) + "_l" + std::to_string(s.levels) + "_cb" + std::to_string(s.codebook) + "_d" +
         std::to_string(s.dim) + "_" + dtype_name(dtype);
}

// Codes for `sets` frames: random, plus the first and last row of every level.
std::vector<std::int32_t> random_codes(h::Rng& rng, const k::RvqShape& s, int sets) {
  std::uniform_int_distribution<std::int32_t> code(0, s.codebook - 1);
  std::vector<std::int32_t> codes(static_cast<std::size_t>(s.levels) * sets);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const int set = static_cast<int>(i) / s.levels;
    codes[i] = set == 0 ? 0 : set == 1 ? s.codebook - 1 : code(rng);
  }
  return codes;
}

void rvq_decode_case(Report& r, h::Rng& rng, const k::RvqShape& s, k::DType dtype) {
  const auto levels = static_cast<std::size_t>(s.levels);
  const h::Param table = h::param(rng, levels * s.codebook * s.dim, dtype, -1.0f, 1.0f);
  const auto device_table = upload(table.view(dtype));
  constexpr int kSets = 6;
  const auto codes = random_codes(rng, s, kSets);
  const auto device_codes = to_device(codes.data(), codes.size());
  std::vector<float> got, want;
  std::size_t bad = 0;
  for (int set = 0; set < kSets; ++set) {
    std::vector<float> expected(static_cast<std::size_t>(s.dim));
    k::rvq_decode(s, table.view(dtype), &codes[set * levels], expected.data());
    want.insert(want.end(), expected.begin(), expected.end());
    Poisoned<float> y(static_cast<std::size_t>(s.dim));
    cu::rvq_decode(nullptr, s, device_table.view, device_codes.data() + set * levels, y.data());
    const auto out = y.read(bad);
    got.insert(got.end(), out.begin(), out.end());
  }
  r.record(rvq_name("rvq_decode", s, dtype) + " (bits)", h::max_abs_difference(got, want), 0.0,
           bad + nonfinite(got));
}

// Embeddings near a sum of codewords (as an encoder's output is) plus noise; level 0's row
// `twin` duplicates row `original`, and the first embedding sits on that row: a tie.
void rvq_encode_case(Report& r, h::Rng& rng, const k::RvqShape& s, k::DType dtype, bool graph) {
  const auto levels = static_cast<std::size_t>(s.levels);
  const auto dim = static_cast<std::size_t>(s.dim);
  h::Param table = h::param(rng, levels * s.codebook * dim, dtype, -1.0f, 1.0f);
  const std::size_t original = 1, twin = static_cast<std::size_t>(s.codebook) - 2;
  for (std::size_t d = 0; d < dim; ++d) {
    table.f32[twin * dim + d] = table.f32[original * dim + d];
    if (dtype == k::DType::bf16) table.bf16[twin * dim + d] = table.bf16[original * dim + d];
  }
  const auto device_table = upload(table.view(dtype));

  std::vector<float> norms(levels * s.codebook);
  k::rvq_codebook_norms(s, table.view(dtype), norms.data());
  Poisoned<float> device_norms(norms.size());
  cu::rvq_codebook_norms(nullptr, s, device_table.view, device_norms.data());
  std::size_t bad = 0;
  const auto got_norms = device_norms.read(bad);
  r.record(rvq_name("rvq_codebook_norms", s, dtype) + " (bits)", h::max_abs_difference(got_norms, norms), 0.0,
           bad + nonfinite(got_norms));

  constexpr int kFrames = 5;
  const auto picks = random_codes(rng, s, kFrames);
  cu::DeviceBuffer<float> residual(dim);
  Poisoned<std::int32_t> codes(levels);
  cu::DeviceBuffer<std::uint32_t> scratch(cu::rvq_encode_scratch_size(s));
  scratch.fill_bytes(0xFF);  // the counters must be zeroed by the call itself
  cudaStream_t stream = nullptr;
  CONTINUO_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CONTINUO_CUDA_CHECK(cudaDeviceSynchronize());
  cudaGraph_t captured = nullptr;
  cudaGraphExec_t exec = nullptr;
  if (graph) {
    CONTINUO_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    cu::rvq_encode(stream, s, device_table.view, device_norms.data(), residual.data(), codes.data(), scratch.data());
    CONTINUO_CUDA_CHECK(cudaStreamEndCapture(stream, &captured));
    CONTINUO_CUDA_CHECK(cudaGraphInstantiate(&exec, captured, 0));
  }
  std::size_t mismatches = 0;
  std::vector<float> got, want;
  for (int frame = 0; frame < kFrames; ++frame) {
    std::vector<float> x = h::uniform(rng, dim, -0.05f, 0.05f);
    for (std::size_t l = 0; l < levels; ++l) {
      const std::size_t row = (l * s.codebook + static_cast<std::size_t>(picks[frame * levels + l])) * dim;
      for (std::size_t d = 0; d < dim; ++d) x[d] += table.f32[row + d] / static_cast<float>(l + 1);
    }
    if (frame == 0) {
      for (std::size_t d = 0; d < dim; ++d) x[d] = table.f32[twin * dim + d];
    }
    std::vector<std::int32_t> expected(levels);
    std::vector<float> cpu_residual = x;
    k::rvq_encode(s, table.view(dtype), norms.data(), cpu_residual.data(), expected.data());
    if (frame == 0 && expected[0] != static_cast<std::int32_t>(original)) ++mismatches;  // the tie rule itself
    codes.repoison(stream);
    upload_on(stream, residual.data(), x.data(), dim);
    if (graph) {
      CONTINUO_CUDA_CHECK(cudaGraphLaunch(exec, stream));
    } else {
      cu::rvq_encode(stream, s, device_table.view, device_norms.data(), residual.data(), codes.data(),
                     scratch.data());
    }
    const auto got_codes = codes.read(bad);
    for (std::size_t l = 0; l < levels; ++l) {
      mismatches += got_codes[l] != expected[l];
      bad += got_codes[l] < 0 || got_codes[l] >= s.codebook;
    }
    std::vector<float> device_residual(dim);
    residual.download(device_residual);
    got.insert(got.end(), device_residual.begin(), device_residual.end());
    want.insert(want.end(), cpu_residual.begin(), cpu_residual.end());
  }
  if (graph) {
    CONTINUO_CUDA_CHECK(cudaGraphExecDestroy(exec));
    CONTINUO_CUDA_CHECK(cudaGraphDestroy(captured));
  }
  CONTINUO_CUDA_CHECK(cudaStreamDestroy(stream));
  const std::string name = rvq_name("rvq_encode", s, dtype) + (graph ? "_graph" : "");
  r.record(name + " (code mismatches)", static_cast<double>(mismatches), 0.0, bad);
  r.record(name + " (residual bits)", h::max_abs_difference(got, want), 0.0, nonfinite(got));
}

}  // namespace

void fresh_transform_cases(Report& r, std::uint64_t seed) {
  h::Rng rng(seed ^ 0x510E527FADE682D1ull);
  for (const auto direction : {k::FftDirection::forward, k::FftDirection::inverse}) {
    fft_case(r, rng, 960, 3, direction);  // the codec's STFT size
    fft_case(r, rng, 64, 2, direction);   // the tiny codec's
    fft_case(r, rng, 63, 1, direction);   // radices 3 and 7
    fft_case(r, rng, 1, 2, direction);
    fft_case(r, rng, cu::kMaxCudaFftSize, 1, direction);
  }
  //                 fft  hop ch frames
  stft_case(r, rng, {960, 480, 2, 4});
  stft_case(r, rng, {64, 32, 2, 2});
  stft_case(r, rng, {30, 7, 3, 5});
  for (const auto dtype : {k::DType::bf16, k::DType::f32}) {
    rvq_decode_case(r, rng, {12, 1024, 256}, dtype);  // the codec's quantiser
    rvq_decode_case(r, rng, {12, 16, 8}, dtype);      // the tiny codec's
    rvq_decode_case(r, rng, {2, 5, 131}, dtype);      // more units than a block
    rvq_encode_case(r, rng, {12, 1024, 256}, dtype, dtype == k::DType::bf16);
    rvq_encode_case(r, rng, {12, 16, 8}, dtype, false);
    rvq_encode_case(r, rng, {3, 70, 131}, dtype, true);  // scalar path, two blocks of codewords
  }
}

}  // namespace continuo::cuda_test
