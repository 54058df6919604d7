#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/rvq_decode/rvq_decode_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 128;

// Thread d walks the levels; a warp reads 32 consecutive units of a row (coalesced).
__global__ void __launch_bounds__(kThreads)
    rvq_decode_kernel(RvqShape s, device::Weights table, const std::int32_t* __restrict__ codes,
                      float* __restrict__ out) {
  const int d = static_cast<int>(blockIdx.x) * kThreads + static_cast<int>(threadIdx.x);
  if (d >= s.dim) return;
  float sum = 0.0f;
  for (int l = 0; l < s.levels; ++l) {
    const std::size_t row = static_cast<std::size_t>(l) * s.codebook + static_cast<std::size_t>(codes[l]);
    sum = __fadd_rn(sum, table.at(row * s.dim + d));
  }
  out[d] = sum;
}

}  // namespace

void rvq_decode(cudaStream_t stream, const RvqShape& shape, DeviceWeightView table, const std::int32_t* codes,
                float* out) {
  if (shape.levels < 0 || shape.codebook < 1 || shape.dim < 0) throw std::invalid_argument("rvq_decode: bad shape");
  if (shape.dim == 0) return;
  if (table.count != static_cast<std::size_t>(shape.levels) * shape.codebook * shape.dim || codes == nullptr ||
      out == nullptr) {
    throw std::invalid_argument("rvq_decode: table size or null tensor");
  }
  rvq_decode_kernel<<<(shape.dim + kThreads - 1) / kThreads, kThreads, 0, stream>>>(shape, device::weights(table),
                                                                                    codes, out);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
