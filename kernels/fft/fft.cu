#include <stdexcept>
#include <string>

#include "kernels/cuda/device.cuh"
#include "kernels/fft/fft_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 128;  // outputs per block

// Block (x, b): outputs [x·128, x·128 + 128) of transform b. The input is staged in shared
// memory; output k sums in[j]·w^{jk} for j ascending (w conjugated for the inverse).
__global__ void __launch_bounds__(kThreads)
    dft_kernel(device::Twiddles w, bool inverse, const float2* __restrict__ in, float2* __restrict__ out) {
  extern __shared__ float2 staged[];
  const int n = w.n;
  const float2* src = in + static_cast<std::size_t>(blockIdx.y) * n;
  for (int j = static_cast<int>(threadIdx.x); j < n; j += kThreads) staged[j] = src[j];
  __syncthreads();
  const int k = static_cast<int>(blockIdx.x) * kThreads + static_cast<int>(threadIdx.x);
  if (k >= n) return;
  const float sign = inverse ? -1.0f : 1.0f;
  float re = 0.0f;
  float im = 0.0f;
  int r = 0;
  for (int j = 0; j < n; ++j) {
    const float2 t = w.at(r);
    const float t_im = sign * t.y;
    const float2 a = staged[j];
    re = fmaf(a.x, t.x, fmaf(-a.y, t_im, re));
    im = fmaf(a.x, t_im, fmaf(a.y, t.x, im));
    r = w.step(r, k);
  }
  out[static_cast<std::size_t>(blockIdx.y) * n + k] = {re, im};
}

}  // namespace

void check_fft_plan(const char* op, const DeviceFftPlan& plan, int n) {
  if (plan.twiddles == nullptr || plan.n != n || n < 1 || n > kMaxCudaFftSize) {
    throw std::invalid_argument(std::string(op) + ": needs a device plan of size " + std::to_string(n) +
                                " (1 to " + std::to_string(kMaxCudaFftSize) + ")");
  }
}

void fft(cudaStream_t stream, const DeviceFftPlan& plan, FftDirection direction, std::size_t batch,
         const float2* in, float2* out) {
  check_fft_plan("fft", plan, plan.n);
  if (batch == 0) return;
  if (in == nullptr || out == nullptr || batch > 65535) throw std::invalid_argument("fft: null tensor or batch");
  const dim3 grid((plan.n + kThreads - 1) / kThreads, static_cast<unsigned>(batch));
  dft_kernel<<<grid, kThreads, plan.n * sizeof(float2), stream>>>({plan.twiddles, plan.n},
                                                                   direction == FftDirection::inverse, in, out);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
