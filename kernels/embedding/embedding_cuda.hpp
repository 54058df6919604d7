#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/cuda.hpp"
#include "kernels/embedding/embedding.hpp"

namespace continuo::kernels::cuda {

// The CUDA twins of the embedding lookups (kernels/embedding/embedding.hpp). Token ids are
// read from device memory, so a captured frame graph embeds whatever ids the previous nodes
// (the sampler) or the host (conditioning, written before the replay) left there. Ids must be
// valid, as on the CPU. Tables fp32 or bf16 in device memory; out fp32, [dim].
//
// Each thread owns one unit d and walks the tokens in the CPU's order with the CPU's
// operations (product, then sum, then the division, each rounded: no FMA contraction), so the
// results equal the CPU's bit for bit as long as the CPU build does not contract either.
// Enqueued on `stream`, no allocation (graph-safe).

// out = table[*token] · scale.
void embed_token(cudaStream_t stream, const EmbeddingShape& shape, DeviceWeightView table,
                 const std::int32_t* token, float scale, float* out);

// out = mean over tokens[0 .. n) of table[token] · scale.
void embed_mean(cudaStream_t stream, const EmbeddingShape& shape, DeviceWeightView table,
                const std::int32_t* tokens, std::size_t n, float scale, float* out);

// Channel c reads row tokens[c] + channel_offsets[c] (ids < num_reserved un-offset), reduced
// by sum or mean; channel_offsets and tokens ([channels] each) in device memory.
void embed_channels(cudaStream_t stream, const MultiChannelShape& shape, DeviceWeightView table,
                    const std::size_t* channel_offsets, const std::int32_t* tokens, float* out);

}  // namespace continuo::kernels::cuda
