#include <stdexcept>
#include <string>

#include "kernels/cuda/device.cuh"
#include "kernels/rvq_encode/rvq_encode_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 64;  // codewords per block: 16 blocks for a 1024-row codebook

// The CPU's dot product: sum += w·x, each product and sum rounded, in ascending d.
template <typename W, bool kVector>
__device__ __forceinline__ float dot(const W* __restrict__ row, const float* x, int dim) {
  float sum = 0.0f;
  if constexpr (kVector) {  // dim % 8 == 0, row 16-byte aligned
    for (int d = 0; d < dim; d += 8) {
      float w[8];
      device::load8(row + d, w);
#pragma unroll
      for (int j = 0; j < 8; ++j) sum = __fadd_rn(sum, __fmul_rn(w[j], x[d + j]));
    }
  } else {
    for (int d = 0; d < dim; ++d) sum = __fadd_rn(sum, __fmul_rn(device::widen(__ldg(row + d)), x[d]));
  }
  return sum;
}

template <typename W>
__global__ void __launch_bounds__(kThreads)
    norms_kernel(RvqShape s, const W* __restrict__ table, float* __restrict__ norms) {
  const std::size_t rows = static_cast<std::size_t>(s.levels) * s.codebook;
  const std::size_t r = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (r >= rows) return;
  const W* row = table + r * s.dim;
  float sum = 0.0f;
  for (int d = 0; d < s.dim; ++d) {
    const float v = device::widen(__ldg(row + d));
    sum = __fadd_rn(sum, __fmul_rn(v, v));
  }
  norms[r] = sum;
}

// (score, index) order: lower score first, then lower index: jnp.argmin's first minimum.
struct Best {
  float score;
  int index;
};
__device__ __forceinline__ bool better(const Best& a, const Best& b) {
  return a.score < b.score || (a.score == b.score && a.index < b.index);
}

// Level `level`: block b scores codewords [b·64, b·64 + 64) into scratch; the last block picks
// the minimum and updates the residual. scratch: [codebook] scores as bits, then [levels]
// counters (zeroed by the host function before the first level).
template <typename W, bool kVector>
__global__ void __launch_bounds__(kThreads)
    level_kernel(RvqShape s, int level, const W* __restrict__ table, const float* __restrict__ norms,
                 float* residual, std::int32_t* codes, std::uint32_t* scratch) {
  extern __shared__ float x[];  // the residual, [dim]
  __shared__ Best best[kThreads];
  __shared__ bool last;
  for (int d = static_cast<int>(threadIdx.x); d < s.dim; d += kThreads) x[d] = residual[d];
  __syncthreads();
  const W* level_table = table + static_cast<std::size_t>(level) * s.codebook * s.dim;
  const float* level_norms = norms + static_cast<std::size_t>(level) * s.codebook;
  float* scores = reinterpret_cast<float*>(scratch);
  std::uint32_t* counter = scratch + s.codebook + level;
  const int c = static_cast<int>(blockIdx.x) * kThreads + static_cast<int>(threadIdx.x);
  if (c < s.codebook) {
    const float d = dot<W, kVector>(level_table + static_cast<std::size_t>(c) * s.dim, x, s.dim);
    scores[c] = __fsub_rn(level_norms[c], __fmul_rn(2.0f, d));
  }
  // Publish the scores, then count the block in; the last block sees every score.
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(counter, 1u) == gridDim.x - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
  Best mine{0.0f, -1};
  for (int i = static_cast<int>(threadIdx.x); i < s.codebook; i += kThreads) {
    const Best candidate{__ldcg(scores + i), i};  // L2: written by other blocks
    if (mine.index < 0 || better(candidate, mine)) mine = candidate;
  }
  best[threadIdx.x] = mine;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      const Best other = best[threadIdx.x + half];
      if (other.index >= 0 && (best[threadIdx.x].index < 0 || better(other, best[threadIdx.x]))) {
        best[threadIdx.x] = other;
      }
    }
    __syncthreads();
  }
  const int code = best[0].index;
  if (threadIdx.x == 0) codes[level] = code;
  const W* row = level_table + static_cast<std::size_t>(code) * s.dim;
  for (int d = static_cast<int>(threadIdx.x); d < s.dim; d += kThreads) {
    const float step = __fsub_rn(device::widen(row[d]), x[d]);  // q − x
    const float quantized = __fadd_rn(x[d], step);              // x + (q − x)
    residual[d] = __fsub_rn(x[d], quantized);
  }
}

template <typename W>
void encode(cudaStream_t stream, const RvqShape& s, const W* table, const float* norms, float* residual,
            std::int32_t* codes, std::uint32_t* scratch) {
  const bool vector = s.dim % 8 == 0 && aligned16(table);
  const unsigned blocks = static_cast<unsigned>((s.codebook + kThreads - 1) / kThreads);
  const std::size_t shared = static_cast<std::size_t>(s.dim) * sizeof(float);
  CONTINUO_CUDA_CHECK(cudaMemsetAsync(scratch + s.codebook, 0, s.levels * sizeof(std::uint32_t), stream));
  for (int level = 0; level < s.levels; ++level) {
    if (vector) {
      level_kernel<W, true><<<blocks, kThreads, shared, stream>>>(s, level, table, norms, residual, codes, scratch);
    } else {
      level_kernel<W, false><<<blocks, kThreads, shared, stream>>>(s, level, table, norms, residual, codes, scratch);
    }
    CONTINUO_CUDA_CHECK_LAUNCH();
  }
}

// Residual in shared memory: at most 48 KB without opting in.
constexpr int kMaxDim = 12 * 1024 - kThreads;

void check(const char* op, const RvqShape& s, DeviceWeightView table) {
  if (s.levels < 0 || s.codebook < 1 || s.dim < 1 || s.dim > kMaxDim) {
    throw std::invalid_argument(std::string(op) + ": bad shape");
  }
  if (table.count != static_cast<std::size_t>(s.levels) * s.codebook * s.dim ||
      (table.count != 0 && table.data == nullptr)) {
    throw std::invalid_argument(std::string(op) + ": table size");
  }
}

}  // namespace

void rvq_codebook_norms(cudaStream_t stream, const RvqShape& s, DeviceWeightView table, float* norms) {
  check("rvq_codebook_norms", s, table);
  const std::size_t rows = static_cast<std::size_t>(s.levels) * s.codebook;
  if (rows == 0) return;
  const unsigned blocks = static_cast<unsigned>((rows + kThreads - 1) / kThreads);
  if (table.dtype == DType::bf16) {
    norms_kernel<<<blocks, kThreads, 0, stream>>>(s, static_cast<const std::uint16_t*>(table.data), norms);
  } else {
    norms_kernel<<<blocks, kThreads, 0, stream>>>(s, static_cast<const float*>(table.data), norms);
  }
  CONTINUO_CUDA_CHECK_LAUNCH();
}

std::size_t rvq_encode_scratch_size(const RvqShape& s) {
  return static_cast<std::size_t>(s.codebook) + static_cast<std::size_t>(s.levels);
}

void rvq_encode(cudaStream_t stream, const RvqShape& s, DeviceWeightView table, const float* norms,
                float* residual, std::int32_t* codes, std::uint32_t* scratch) {
  check("rvq_encode", s, table);
  if (s.levels == 0) return;
  if (norms == nullptr || residual == nullptr || codes == nullptr || scratch == nullptr) {
    throw std::invalid_argument("rvq_encode: null tensor");
  }
  if (table.dtype == DType::bf16) {
    encode(stream, s, static_cast<const std::uint16_t*>(table.data), norms, residual, codes, scratch);
  } else {
    encode(stream, s, static_cast<const float*>(table.data), norms, residual, codes, scratch);
  }
}

}  // namespace continuo::kernels::cuda
