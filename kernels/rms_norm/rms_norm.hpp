#pragma once

#include <cstddef>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// y = x / sqrt(mean(x²) + eps) · scale, over one vector of `dim`.
// Every transformer block of MRT2 (encoder, temporal and depth decoder) wraps its attention,
// cross-attention and FFN in this norm twice (norm_policy 'primer_hybrid': pre_norm and
// post_norm, norm_type 'rms_normalization'); mirrors sequence_layers RMSNormalization,
// eps 1e-6, scale initialised to ones (plain multiply, not 1 + scale). scale count 0 means
// absent. y may alias x.
struct RmsNormShape {
  std::size_t dim = 0;
  float eps = 1e-6f;
};

void rms_norm(const RmsNormShape& shape, WeightView scale, const float* x, float* y);

// residual += rms_norm(y): a block's post-norm and its residual add in one pass, each sum the
// one rms_norm then an add would give (the product rounded before the add). y must not alias
// residual.
void rms_norm_residual(const RmsNormShape& shape, WeightView scale, const float* y, float* residual);

}  // namespace continuo::kernels
