#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/istft/istft_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 128;  // samples per block

// Block (x, frame, channel): samples [x·128, x·128 + 128) of one frame's windowed irfft into
// frames [channels, frames, n]. The frame's bins are staged in shared memory.
__global__ void __launch_bounds__(kThreads)
    irfft_kernel(IstftShape s, device::Twiddles w, const float* __restrict__ window, const float* __restrict__ x,
                 float* __restrict__ frames) {
  extern __shared__ float2 bins[];
  const int n = s.fft_size;
  const int half = n / 2;
  const std::size_t frame = static_cast<std::size_t>(blockIdx.z) * s.frames + blockIdx.y;
  const float2* src = reinterpret_cast<const float2*>(x) + frame * half;
  for (int k = static_cast<int>(threadIdx.x); k < half; k += kThreads) bins[k] = src[k];
  __syncthreads();
  const int j = static_cast<int>(blockIdx.x) * kThreads + static_cast<int>(threadIdx.x);
  if (j >= n) return;
  // Re(X_k·e^{+2πijk/n}) = re·cos + im·(−sin) with the twiddle (cos, −sin) of index jk mod n.
  float sum = 0.0f;
  int r = j;
  for (int k = 1; k < half; ++k) {
    const float2 t = w.at(r);
    sum = fmaf(bins[k].x, t.x, fmaf(bins[k].y, t.y, sum));
    r = w.step(r, j);
  }
  const float value = fmaf(2.0f, sum, bins[0].x);
  frames[frame * n + j] = value * (1.0f / static_cast<float>(n)) * window[j];
}

// Sample s of channel c over the span [0, (frames − 1)·hop + n): the open sample (if any),
// then every frame covering s in order; s < frames·hop to y, the rest to tail.
__global__ void __launch_bounds__(device::kElementwiseThreads)
    overlap_add_kernel(IstftShape s, const float* __restrict__ open, const float* __restrict__ frames,
                       float* __restrict__ y, float* __restrict__ tail) {
  const auto channels = static_cast<std::size_t>(s.channels);
  const std::size_t span = static_cast<std::size_t>(s.frames - 1) * s.hop + s.fft_size;
  const std::size_t open_samples = static_cast<std::size_t>(s.fft_size - s.hop);
  const std::size_t emitted = static_cast<std::size_t>(s.frames) * s.hop;
  device::for_each_index(span * channels, [&](std::size_t i) {
    const std::size_t sample = i / channels;
    const std::size_t c = i % channels;
    float acc = sample < open_samples ? open[i] : 0.0f;
    for (int t = 0; t < s.frames; ++t) {
      const std::size_t start = static_cast<std::size_t>(t) * s.hop;
      if (sample < start) break;
      if (sample - start < static_cast<std::size_t>(s.fft_size)) {
        acc += frames[(c * s.frames + t) * s.fft_size + (sample - start)];
      }
    }
    if (sample < emitted) {
      y[i] = acc;
    } else {
      tail[i - emitted * channels] = acc;
    }
  });
}

std::size_t frame_floats(const IstftShape& s) {
  return static_cast<std::size_t>(s.channels) * s.frames * s.fft_size;
}

}  // namespace

std::size_t istft_cuda_scratch_size(const IstftShape& s) { return frame_floats(s) + istft_overlap_size(s); }

void istft(cudaStream_t stream, const IstftShape& s, const DeviceFftPlan& plan, const float* window,
           float* overlap, const float* x, float* scratch, float* y) {
  if (s.fft_size < 2 || s.fft_size % 2 != 0 || s.hop < 1 || s.hop > s.fft_size || s.channels < 1 ||
      s.frames < 1 || s.frames > 65535 || s.channels > 65535) {
    throw std::invalid_argument("istft: bad shape (fft_size even, 1 <= hop <= fft_size)");
  }
  check_fft_plan("istft", plan, s.fft_size);
  const std::size_t open = istft_overlap_size(s);
  if (window == nullptr || x == nullptr || y == nullptr || scratch == nullptr || (open != 0 && overlap == nullptr)) {
    throw std::invalid_argument("istft: null tensor");
  }
  float* frames = scratch;
  float* tail = scratch + frame_floats(s);
  const dim3 grid((s.fft_size + kThreads - 1) / kThreads, s.frames, s.channels);
  irfft_kernel<<<grid, kThreads, (s.fft_size / 2) * sizeof(float2), stream>>>(s, {plan.twiddles, plan.n}, window,
                                                                              x, frames);
  CONTINUO_CUDA_CHECK_LAUNCH();
  const std::size_t span = (static_cast<std::size_t>(s.frames - 1) * s.hop + s.fft_size) * s.channels;
  overlap_add_kernel<<<device::elementwise_blocks(span), device::kElementwiseThreads, 0, stream>>>(s, overlap, frames,
                                                                                                 y, tail);
  CONTINUO_CUDA_CHECK_LAUNCH();
  if (open != 0) {
    CONTINUO_CUDA_CHECK(cudaMemcpyAsync(overlap, tail, open * sizeof(float), cudaMemcpyDeviceToDevice, stream));
  }
}

}  // namespace continuo::kernels::cuda
