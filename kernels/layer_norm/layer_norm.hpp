#pragma once

#include <cstddef>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// y = (x − mean(x)) / sqrt(var(x) + eps) · scale (+ bias), over one vector of `dim`.
// Mirrors sequence_layers LayerNormalization (biased variance, eps inside the sqrt). eps is
// 1e-6 wherever MRT2 uses it: the depth decoder's final_ln and the encoder's encoder_ln.
// scale and bias are [dim]; count 0 means absent (scale 1, bias 0). y may alias x.
struct LayerNormShape {
  std::size_t dim = 0;
  float eps = 1e-6f;
};

void layer_norm(const LayerNormShape& shape, WeightView scale, WeightView bias, const float* x,
                float* y);

}  // namespace continuo::kernels
