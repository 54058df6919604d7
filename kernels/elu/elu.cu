#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/elu/elu_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

using device::kElementwiseThreads;

__global__ void __launch_bounds__(kElementwiseThreads)
    elu_kernel(std::size_t n, const float* x, float* y) {
  device::for_each_index(n, [&](std::size_t i) {
    const float v = x[i];
    y[i] = v > 0.0f ? v : expm1f(v);
  });
}

}  // namespace

void elu(cudaStream_t stream, std::size_t n, const float* x, float* y) {
  if (n == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("elu: null vector");
  elu_kernel<<<device::elementwise_blocks(n), kElementwiseThreads, 0, stream>>>(n, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
