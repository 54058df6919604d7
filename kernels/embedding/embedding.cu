#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/embedding/embedding_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 128;  // units per block: dim 768 → 6 blocks, 3072 → 24

enum class Reduce : std::uint8_t { none, sum, mean };

// The table row of the i-th token: the id itself (embed_token, embed_mean) …
struct TokenRows {
  const std::int32_t* tokens;
  __device__ __forceinline__ std::size_t operator()(std::size_t i) const {
    return static_cast<std::size_t>(tokens[i]);
  }
};

// … or channel c's id offset into its slice, reserved ids shared (embed_channels).
struct ChannelRows {
  const std::int32_t* tokens;
  const std::size_t* offsets;
  std::size_t num_reserved;
  __device__ __forceinline__ std::size_t operator()(std::size_t c) const {
    const auto id = static_cast<std::size_t>(tokens[c]);
    return id < num_reserved ? id : id + offsets[c];
  }
};

// Thread d: unit d of every token's row, in token order, with the CPU's roundings: none →
// table · scale (embed_token's assignment); sum/mean → 0 + Σ table · scale, then / n for the
// mean (accumulate_row and divide in embedding_cpu.cpp). __fmul_rn / __fadd_rn keep nvcc from
// contracting them into an FMA. A warp reads 32 consecutive units of a row: coalesced.
template <typename Rows>
__global__ void __launch_bounds__(kThreads)
    gather_kernel(device::Weights table, std::size_t dim, Rows rows, std::size_t n, float scale,
                  Reduce reduce, float* out) {
  const std::size_t d = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (d >= dim) return;
  if (reduce == Reduce::none) {
    out[d] = __fmul_rn(table.at(rows(0) * dim + d), scale);
    return;
  }
  float acc = 0.0f;
  for (std::size_t i = 0; i < n; ++i) acc = __fadd_rn(acc, __fmul_rn(table.at(rows(i) * dim + d), scale));
  out[d] = reduce == Reduce::mean ? acc / static_cast<float>(n) : acc;
}

template <typename Rows>
void gather(cudaStream_t stream, DeviceWeightView table, std::size_t dim, Rows rows, std::size_t n,
            float scale, Reduce reduce, float* out) {
  if (dim == 0) return;
  if (table.data == nullptr || out == nullptr) throw std::invalid_argument("embedding: null table or output");
  const auto blocks = static_cast<unsigned>((dim + kThreads - 1) / kThreads);
  gather_kernel<<<blocks, kThreads, 0, stream>>>(device::weights(table), dim, rows, n, scale,
                                                 reduce, out);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace

void embed_token(cudaStream_t stream, const EmbeddingShape& shape, DeviceWeightView table,
                 const std::int32_t* token, float scale, float* out) {
  if (token == nullptr) throw std::invalid_argument("embed_token: null token");
  gather(stream, table, shape.dim, TokenRows{token}, 1, scale, Reduce::none, out);
}

void embed_mean(cudaStream_t stream, const EmbeddingShape& shape, DeviceWeightView table,
                const std::int32_t* tokens, std::size_t n, float scale, float* out) {
  if (tokens == nullptr && n != 0) throw std::invalid_argument("embed_mean: null tokens");
  gather(stream, table, shape.dim, TokenRows{tokens}, n, scale, Reduce::mean, out);
}

void embed_channels(cudaStream_t stream, const MultiChannelShape& shape, DeviceWeightView table,
                    const std::size_t* channel_offsets, const std::int32_t* tokens, float* out) {
  if (shape.channels != 0 && (tokens == nullptr || channel_offsets == nullptr)) {
    throw std::invalid_argument("embed_channels: null tokens or offsets");
  }
  const Reduce reduce = shape.reduction == ChannelReduction::mean ? Reduce::mean : Reduce::sum;
  gather(stream, table, shape.dim, ChannelRows{tokens, channel_offsets, shape.num_reserved},
         shape.channels, 1.0f, reduce, out);
}

}  // namespace continuo::kernels::cuda
