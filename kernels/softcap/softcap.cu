#include <algorithm>
#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/softcap/softcap_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr std::size_t kMaxBlocks = 1024;

// Elementwise, grid-stride; each element read then written by one thread, so y may alias x.
// The CPU's expression, cap · tanh(x / cap), with IEEE division (no fast math).
__global__ void __launch_bounds__(kThreads)
    softcap_kernel(std::size_t n, float cap, const float* x, float* y) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += stride) {
    y[i] = cap * tanhf(x[i] / cap);
  }
}

}  // namespace

void softcap(cudaStream_t stream, const SoftcapShape& shape, const float* x, float* y) {
  if (shape.n == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("softcap: null vector");
  const auto blocks =
      static_cast<unsigned>(std::min(kMaxBlocks, (shape.n + kThreads - 1) / kThreads));
  softcap_kernel<<<blocks, kThreads, 0, stream>>>(shape.n, shape.cap, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
