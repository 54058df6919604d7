#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Embedding tables are row-major [vocab, dim] (the checkpoint layout): a token reads one
// contiguous row. Token ids must be in [0, vocab); mapping user-facing values onto ids
// (conditioning −1 → the mask id) is the caller's job, see embed_channels.
struct EmbeddingShape {
  std::size_t vocab = 0;
  std::size_t dim = 0;
};

// sqrt(dim) as the official sl.Scale(np.sqrt(model_dims)) applies it (a float32 factor).
float embedding_scale(std::size_t dim);

// out = table[token] · scale. The decoder's shared embedding (depth input of levels 1..11)
// uses scale = embedding_scale(dim); scale 1 gives a plain lookup.
void embed_token(const EmbeddingShape& shape, WeightView table, std::int32_t token, float scale,
                 float* out);

// out = mean over the n tokens of table[token] · scale: the temporal decoder's input, the
// previous frame's 12 RVQ tokens embedded and averaged (_mean_in_f32 over the level axis).
void embed_mean(const EmbeddingShape& shape, WeightView table, const std::int32_t* tokens,
                std::size_t n, float scale, float* out);

// MultiChannelEmbedding: channel c of a frame has its own slice of one shared table, starting
// at channel_offsets[c] (the cumulative sum of the per-channel vocab sizes); ids below
// num_reserved are shared and not offset. The per-channel rows are reduced over channels.
// MRT2's conditioning encoder: the MusicCoCa branch (12 channels, offset level · 1031, sum,
// then a dense adapter) and the regular branch (notes, drums, CFG: mean). Raw conditioning
// values are shifted by NUM_RESERVED_TOKENS + 1 = 7 before lookup (system.py), so a masked
// −1 becomes id 6, the channel's learned mask/dropout row.
enum class ChannelReduction : std::uint8_t { mean, sum };

struct MultiChannelShape {
  std::size_t channels = 0;
  std::size_t dim = 0;
  std::size_t num_reserved = 0;
  ChannelReduction reduction = ChannelReduction::mean;
};

void embed_channels(const MultiChannelShape& shape, WeightView table,
                    const std::size_t* channel_offsets, const std::int32_t* tokens, float* out);

}  // namespace continuo::kernels
