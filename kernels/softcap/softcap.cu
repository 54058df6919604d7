#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/softcap/softcap_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

using device::kElementwiseThreads;

// Elementwise (device::for_each_index), so y may alias x. The CPU's expression,
// cap · tanh(x / cap), with IEEE division (no fast math).
__global__ void __launch_bounds__(kElementwiseThreads)
    softcap_kernel(std::size_t n, float cap, const float* x, float* y) {
  device::for_each_index(n, [&](std::size_t i) { y[i] = cap * tanhf(x[i] / cap); });
}

}  // namespace

void softcap(cudaStream_t stream, const SoftcapShape& shape, const float* x, float* y) {
  if (shape.n == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("softcap: null vector");
  softcap_kernel<<<device::elementwise_blocks(shape.n), kElementwiseThreads, 0, stream>>>(
      shape.n, shape.cap, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
