#include "kernels/embedding/embedding.hpp"

#include <algorithm>
#include <cmath>

namespace continuo::kernels {
namespace {

void accumulate_row(WeightView table, std::size_t row, std::size_t dim, float scale,
                    float* out) {
  const std::size_t base = row * dim;
  for (std::size_t d = 0; d < dim; ++d) out[d] += table.at(base + d) * scale;
}

void divide(float* out, std::size_t dim, std::size_t n) {
  const float count = static_cast<float>(n);
  for (std::size_t d = 0; d < dim; ++d) out[d] /= count;
}

std::size_t channel_row(const MultiChannelShape& shape, const std::size_t* channel_offsets,
                        std::size_t c, std::int32_t token) {
  const auto id = static_cast<std::size_t>(token);
  return id < shape.num_reserved ? id : id + channel_offsets[c];
}

}  // namespace

float embedding_scale(std::size_t dim) {
  return static_cast<float>(std::sqrt(static_cast<double>(dim)));
}

void embed_token(const EmbeddingShape& shape, WeightView table, std::int32_t token, float scale,
                 float* out) {
  const std::size_t base = static_cast<std::size_t>(token) * shape.dim;
  for (std::size_t d = 0; d < shape.dim; ++d) out[d] = table.at(base + d) * scale;
}

void embed_mean(const EmbeddingShape& shape, WeightView table, const std::int32_t* tokens,
                std::size_t n, float scale, float* out) {
  std::fill(out, out + shape.dim, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    accumulate_row(table, static_cast<std::size_t>(tokens[i]), shape.dim, scale, out);
  }
  divide(out, shape.dim, n);
}

void embed_channels(const MultiChannelShape& shape, WeightView table,
                    const std::size_t* channel_offsets, const std::int32_t* tokens, float* out) {
  std::fill(out, out + shape.dim, 0.0f);
  for (std::size_t c = 0; c < shape.channels; ++c) {
    accumulate_row(table, channel_row(shape, channel_offsets, c, tokens[c]), shape.dim, 1.0f, out);
  }
  if (shape.reduction == ChannelReduction::mean) divide(out, shape.dim, shape.channels);
}

}  // namespace continuo::kernels
