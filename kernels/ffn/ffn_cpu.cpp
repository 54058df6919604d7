#include "kernels/ffn/ffn.hpp"

#include <cmath>
#include <numbers>

#include "kernels/dense/dense.hpp"

namespace continuo::kernels {
namespace {

// jax.nn.gelu(approximate=True) and mlx nn.gelu_approx: the tanh form, not erf.
float gelu_tanh(float x) {
  const float k = static_cast<float>(std::sqrt(2.0 / std::numbers::pi));
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

// Gated: h[i] = h[i] · act(h[hidden + i]), compacted into the first half.
void gate(const FfnShape& shape, float* h) {
  for (std::size_t i = 0; i < shape.hidden; ++i) {
    h[i] *= activate(shape.activation, h[shape.hidden + i]);
  }
}

void activate_all(const FfnShape& shape, float* h) {
  for (std::size_t i = 0; i < shape.hidden; ++i) h[i] = activate(shape.activation, h[i]);
}

}  // namespace

std::size_t ffn_scratch_size(const FfnShape& shape) {
  return shape.gated ? 2 * shape.hidden : shape.hidden;
}

float activate(Activation activation, float x) {
  switch (activation) {
    case Activation::gelu_tanh: return gelu_tanh(x);
    case Activation::relu: return x > 0.0f ? x : 0.0f;
    case Activation::silu: return x / (1.0f + std::exp(-x));
  }
  return x;
}

void ffn(const FfnShape& shape, const FfnWeights& weights, const float* x, float* scratch,
         float* y) {
  dense({shape.model, ffn_scratch_size(shape)}, weights.w1, weights.b1, x, scratch);
  if (shape.gated) {
    gate(shape, scratch);
  } else {
    activate_all(shape, scratch);
  }
  dense({shape.hidden, shape.model}, weights.w2, weights.b2, scratch, y);
}

}  // namespace continuo::kernels
