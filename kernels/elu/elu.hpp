#pragma once

#include <cstddef>

namespace continuo::kernels {

// y = x for x > 0, exp(x) − 1 otherwise (α = 1): the SpectroStream activation, sl.Elu
// (SL/jax/simple.py: Elu → jax.nn.elu, which uses expm1). y may alias x.
void elu(std::size_t n, const float* x, float* y);

}  // namespace continuo::kernels
