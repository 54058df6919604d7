#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/layer_norm/layer_norm_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 256;

// Batch 1: one block. Two reductions (mean, then squared deviations: no cancellation), each
// ending in a barrier, before any write; each thread then writes y[i] from its own x[i], so
// y may alias x.
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(std::size_t dim, float eps, device::Weights scale, device::Weights bias,
                      const float* x, float* y) {
  __shared__ float shared[kThreads / device::kWarp];
  const auto n = static_cast<float>(dim);
  float sum = 0.0f;
  for (std::size_t i = threadIdx.x; i < dim; i += kThreads) sum += x[i];
  const float mean = device::block_sum<kThreads>(sum, shared) / n;
  float deviations = 0.0f;
  for (std::size_t i = threadIdx.x; i < dim; i += kThreads) {
    const float d = x[i] - mean;
    deviations = fmaf(d, d, deviations);
  }
  const float inv = 1.0f / sqrtf(device::block_sum<kThreads>(deviations, shared) / n + eps);
  for (std::size_t i = threadIdx.x; i < dim; i += kThreads) {
    float v = (x[i] - mean) * inv;
    if (scale.present()) v *= scale.at(i);
    if (bias.present()) v += bias.at(i);
    y[i] = v;
  }
}

}  // namespace

void layer_norm(cudaStream_t stream, const LayerNormShape& shape, DeviceWeightView scale,
                DeviceWeightView bias, const float* x, float* y) {
  if (shape.dim == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("layer_norm: null vector");
  layer_norm_kernel<<<1, kThreads, 0, stream>>>(shape.dim, shape.eps, device::weights(scale),
                                                device::weights(bias), x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
