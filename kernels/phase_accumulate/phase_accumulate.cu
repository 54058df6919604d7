#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/phase_accumulate/phase_accumulate_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 128;

// Thread (channel c, bin k): the bin's running phase through frames first … frames − 1.
// Consecutive threads take consecutive bins: each frame's (re, im) reads and writes coalesce.
__global__ void __launch_bounds__(kThreads)
    phase_accumulate_kernel(PhaseAccumulateShape s, const std::int32_t* __restrict__ first_frame,
                            double* __restrict__ phase, float2* __restrict__ x) {
  const int bins = s.fft_size / 2;
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (i >= static_cast<std::size_t>(s.channels) * bins) return;
  const std::size_t c = i / bins;
  const int k = static_cast<int>(i % bins);
  constexpr double kTwoPi = 6.283185307179586476925286766559;  // the CPU's 2.0 * std::numbers::pi
  double running = phase[i];
  for (int t = max(*first_frame, 0); t < s.frames; ++t) {
    float2& z = x[(c * s.frames + t) * bins + k];
    const double re = z.x;
    const double im = z.y;
    running = remainder(running + atan2(im, re), kTwoPi);
    const double magnitude = sqrt(re * re + im * im + 1e-20);
    double sine, cosine;
    sincos(running, &sine, &cosine);
    z = make_float2(static_cast<float>(magnitude * cosine), static_cast<float>(magnitude * sine));
  }
  phase[i] = running;
}

}  // namespace

void phase_accumulate(cudaStream_t stream, const PhaseAccumulateShape& s, const std::int32_t* first_frame,
                      double* phase, float* x) {
  if (s.fft_size < 2 || s.fft_size % 2 != 0 || s.channels < 0 || s.frames < 0) {
    throw std::invalid_argument("phase_accumulate: bad shape (fft_size even and positive)");
  }
  const std::size_t threads = phase_accumulate_state_size(s);
  if (threads == 0 || s.frames == 0) return;
  if (first_frame == nullptr || phase == nullptr || x == nullptr) {
    throw std::invalid_argument("phase_accumulate: null tensor");
  }
  const auto blocks = static_cast<unsigned>((threads + kThreads - 1) / kThreads);
  phase_accumulate_kernel<<<blocks, kThreads, 0, stream>>>(s, first_frame, phase, reinterpret_cast<float2*>(x));
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
