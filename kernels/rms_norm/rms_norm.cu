#include <stdexcept>
#include <string>

#include "kernels/cuda/device.cuh"
#include "kernels/rms_norm/rms_norm_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 256;

// Batch 1: the whole vector in one block. Phase 1 reads x (sum of squares), the block sum's
// closing barrier orders every read before phase 2 writes y[i] from x[i] in the same thread,
// so y may alias x (no __restrict__ on them). kResidual: phase 2 adds to y instead (y += the
// norm), the product rounded first, as a separate add kernel would see it.
template <bool kResidual>
__global__ void __launch_bounds__(kThreads)
    rms_norm_kernel(std::size_t dim, float eps, device::Weights scale, const float* x, float* y) {
  __shared__ float shared[kThreads / device::kWarp];
  float sum = 0.0f;
  for (std::size_t i = threadIdx.x; i < dim; i += kThreads) sum = fmaf(x[i], x[i], sum);
  const float total = device::block_sum<kThreads>(sum, shared);
  const float inv = 1.0f / sqrtf(total / static_cast<float>(dim) + eps);
  for (std::size_t i = threadIdx.x; i < dim; i += kThreads) {
    const float v = x[i] * inv;
    const float normed = scale.present() ? __fmul_rn(v, scale.at(i)) : v;
    y[i] = kResidual ? __fadd_rn(y[i], normed) : normed;
  }
}

template <bool kResidual>
void launch(cudaStream_t stream, const RmsNormShape& shape, DeviceWeightView scale, const float* x, float* y,
            const char* op) {
  if (shape.dim == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument(std::string(op) + ": null vector");
  rms_norm_kernel<kResidual><<<1, kThreads, 0, stream>>>(shape.dim, shape.eps, device::weights(scale), x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace

void rms_norm(cudaStream_t stream, const RmsNormShape& shape, DeviceWeightView scale,
              const float* x, float* y) {
  launch<false>(stream, shape, scale, x, y, "rms_norm");
}

void rms_norm_residual(cudaStream_t stream, const RmsNormShape& shape, DeviceWeightView scale,
                       const float* y, float* residual) {
  if (y == residual) throw std::invalid_argument("rms_norm_residual: y aliases the residual");
  launch<true>(stream, shape, scale, y, residual, "rms_norm_residual");
}

}  // namespace continuo::kernels::cuda
