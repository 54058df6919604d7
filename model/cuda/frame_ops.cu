#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda.hpp"
#include "kernels/cuda/device.cuh"
#include "model/cuda/frame_ops_cuda.hpp"

namespace continuo::model::cuda {
namespace {

namespace device = kernels::cuda::device;
using device::kElementwiseThreads;

__global__ void __launch_bounds__(kElementwiseThreads)
    add_in_place_kernel(std::size_t n, float* x, const float* y) {
  device::for_each_index(n, [&](std::size_t i) { x[i] = __fadd_rn(x[i], y[i]); });
}

__global__ void __launch_bounds__(kElementwiseThreads)
    mean_of_two_kernel(std::size_t n, const float* a, const float* b, float* out) {
  device::for_each_index(n,
                         [&](std::size_t i) { out[i] = __fmul_rn(__fadd_rn(a[i], b[i]), 0.5f); });
}

// Thread i of block g zeroes element i of group g's leading frames (grid-stride over them).
__global__ void __launch_bounds__(kElementwiseThreads)
    zero_leading_frames_kernel(const std::int32_t* count, float* x, std::size_t group_floats,
                               std::size_t frame_floats) {
  const std::size_t n = static_cast<std::size_t>(*count) * frame_floats;
  float* group = x + blockIdx.x * group_floats;
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) group[i] = 0.0f;
}

// One thread: a dependency of the next level's embedding, never a cost.
__global__ void commit_code_kernel(const LevelForcing* forcing, std::uint32_t level,
                                   std::int32_t level_begin, const std::uint32_t* sampled,
                                   std::uint32_t* codes, std::int32_t* ids) {
  const std::uint32_t code =
      forcing->force != 0 ? static_cast<std::uint32_t>(forcing->codes[level]) : *sampled;
  codes[level] = code;
  ids[level] = level_begin + static_cast<std::int32_t>(code);
}

void check_vectors(const void* a, const void* b, const void* c, const char* op) {
  if (a == nullptr || b == nullptr || c == nullptr) {
    throw std::invalid_argument(std::string(op) + ": null vector");
  }
}

}  // namespace

void add_in_place(cudaStream_t stream, float* x, const float* y, std::size_t n) {
  if (n == 0) return;
  check_vectors(x, y, x, "add_in_place");
  add_in_place_kernel<<<device::elementwise_blocks(n), kElementwiseThreads, 0, stream>>>(n, x, y);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void mean_of_two(cudaStream_t stream, const float* a, const float* b, float* out, std::size_t n) {
  if (n == 0) return;
  check_vectors(a, b, out, "mean_of_two");
  mean_of_two_kernel<<<device::elementwise_blocks(n), kElementwiseThreads, 0, stream>>>(n, a, b,
                                                                                        out);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void zero_leading_frames(cudaStream_t stream, const std::int32_t* count, float* x, int groups,
                         std::size_t group_floats, std::size_t frame_floats) {
  check_vectors(count, x, x, "zero_leading_frames");
  if (groups < 1) throw std::invalid_argument("zero_leading_frames: groups must be >= 1");
  zero_leading_frames_kernel<<<groups, kElementwiseThreads, 0, stream>>>(count, x, group_floats,
                                                                         frame_floats);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void commit_code(cudaStream_t stream, const LevelForcing* forcing, std::uint32_t level,
                 std::int32_t level_begin, const std::uint32_t* sampled, std::uint32_t* codes,
                 std::int32_t* ids) {
  check_vectors(forcing, sampled, codes, "commit_code");
  if (ids == nullptr || level >= static_cast<std::uint32_t>(kLmLevels)) {
    throw std::invalid_argument("commit_code: null ids or level out of range");
  }
  commit_code_kernel<<<1, 1, 0, stream>>>(forcing, level, level_begin, sampled, codes, ids);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::model::cuda
