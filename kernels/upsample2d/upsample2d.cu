#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/upsample2d/upsample2d_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

using device::kElementwiseThreads;

// One thread per output element (frame n, bin o, channel c) adds input (n / st, o / sf, c).
// Consecutive threads take consecutive channels: coalesced reads of x and y.
__global__ void __launch_bounds__(kElementwiseThreads)
    upsample2d_add_kernel(Upsample2dShape s, const float* __restrict__ x, float* __restrict__ y) {
  const auto in_bins = static_cast<std::size_t>(s.freq);
  const auto out_bins = in_bins * static_cast<std::size_t>(s.sf);
  const auto channels = static_cast<std::size_t>(s.channels);
  const std::size_t n = static_cast<std::size_t>(s.frames) * s.st * out_bins * channels;
  device::for_each_index(n, [&](std::size_t i) {
    const device::Pixel out = device::unflatten(i, out_bins, channels);
    const device::Pixel in{out.frame / s.st, out.bin / s.sf, out.channel};
    y[i] += x[device::flatten(in, in_bins, channels)];
  });
}

}  // namespace

void upsample2d_add(cudaStream_t stream, const Upsample2dShape& shape, const float* x, float* y) {
  if (shape.frames < 0 || shape.freq < 0 || shape.channels < 0 || shape.st < 1 || shape.sf < 1) {
    throw std::invalid_argument("upsample2d_add: bad shape");
  }
  const std::size_t n = static_cast<std::size_t>(shape.frames) * shape.st * shape.freq * shape.sf *
                        static_cast<std::size_t>(shape.channels);
  if (n == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("upsample2d_add: null tensor");
  upsample2d_add_kernel<<<device::elementwise_blocks(n), kElementwiseThreads, 0, stream>>>(shape, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
