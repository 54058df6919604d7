#include <stdexcept>

#include "kernels/avg_pool2d/avg_pool2d_cuda.hpp"
#include "kernels/cuda/device.cuh"

namespace continuo::kernels::cuda {
namespace {

using device::kElementwiseThreads;

// One thread per output element (frame τ, bin o, channel c): the window's st·sf inputs
// (st·τ + i, sf·o + j, c) in the CPU's i-then-j order, then one division (IEEE, as the CPU's).
// Consecutive threads take consecutive channels: every read of x is coalesced.
__global__ void __launch_bounds__(kElementwiseThreads)
    avg_pool2d_kernel(AvgPool2dShape s, const float* __restrict__ x, float* __restrict__ y) {
  const auto in_bins = static_cast<std::size_t>(s.freq);
  const auto out_bins = in_bins / static_cast<std::size_t>(s.sf);  // trailing bins dropped
  const auto channels = static_cast<std::size_t>(s.channels);
  const std::size_t n = static_cast<std::size_t>(s.frames / s.st) * out_bins * channels;
  const auto area = static_cast<float>(s.st * s.sf);
  device::for_each_index(n, [&](std::size_t i) {
    const device::Pixel out = device::unflatten(i, out_bins, channels);
    float sum = 0.0f;
    for (int t = 0; t < s.st; ++t) {
      for (int f = 0; f < s.sf; ++f) {
        const device::Pixel in{out.frame * s.st + t, out.bin * s.sf + f, out.channel};
        sum += x[device::flatten(in, in_bins, channels)];
      }
    }
    y[i] = sum / area;
  });
}

}  // namespace

void avg_pool2d(cudaStream_t stream, const AvgPool2dShape& shape, const float* x, float* y) {
  if (shape.frames < 0 || shape.freq < 0 || shape.channels < 0 || shape.st < 1 || shape.sf < 1 ||
      shape.frames % shape.st != 0) {
    throw std::invalid_argument("avg_pool2d: bad shape (frames must be a multiple of st)");
  }
  const std::size_t n = static_cast<std::size_t>(shape.frames / shape.st) *
                        static_cast<std::size_t>(shape.freq / shape.sf) *
                        static_cast<std::size_t>(shape.channels);
  if (n == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("avg_pool2d: null tensor");
  avg_pool2d_kernel<<<device::elementwise_blocks(n), kElementwiseThreads, 0, stream>>>(shape, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
