#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/stft/stft_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 128;  // bins per block

// Block (x, frame, channel): bins [x·128, x·128 + 128) of one frame. The windowed frame is
// staged in shared memory (the CPU's product in[j]·window[j]); bin k sums it against w^{jk}.
__global__ void __launch_bounds__(kThreads)
    stft_kernel(StftShape s, device::Twiddles w, const float* __restrict__ window, const float* __restrict__ x,
                float* __restrict__ y) {
  extern __shared__ float frame[];
  const int n = s.fft_size;
  const int t = static_cast<int>(blockIdx.y);
  const int c = static_cast<int>(blockIdx.z);
  const float* in = x + static_cast<std::size_t>(t) * s.hop * s.channels + c;
  for (int j = static_cast<int>(threadIdx.x); j < n; j += kThreads) {
    frame[j] = in[static_cast<std::size_t>(j) * s.channels] * window[j];
  }
  __syncthreads();
  const int bins = n / 2;
  const int k = static_cast<int>(blockIdx.x) * kThreads + static_cast<int>(threadIdx.x);
  if (k >= bins) return;
  float re = 0.0f;
  float im = 0.0f;
  int r = 0;
  for (int j = 0; j < n; ++j) {
    const float2 tw = w.at(r);
    re = fmaf(frame[j], tw.x, re);
    im = fmaf(frame[j], tw.y, im);
    r = w.step(r, k);
  }
  float* out = y + ((static_cast<std::size_t>(c) * s.frames + t) * bins + k) * 2;
  out[0] = re;
  out[1] = im;
}

}  // namespace

void stft(cudaStream_t stream, const StftShape& s, const DeviceFftPlan& plan, const float* window,
          const float* x, float* y) {
  if (s.fft_size < 2 || s.hop < 1 || s.channels < 1 || s.frames < 1 || s.frames > 65535 || s.channels > 65535) {
    throw std::invalid_argument("stft: bad shape");
  }
  check_fft_plan("stft", plan, s.fft_size);
  if (window == nullptr || x == nullptr || y == nullptr) throw std::invalid_argument("stft: null tensor");
  const dim3 grid((s.fft_size / 2 + kThreads - 1) / kThreads, s.frames, s.channels);
  stft_kernel<<<grid, kThreads, s.fft_size * sizeof(float), stream>>>(s, {plan.twiddles, plan.n}, window, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
