#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// The MLP of a transformer block, without its norms and residual (the model composes
// rms_norm → ffn → rms_norm → add, as SLTransformerFFN does).
//   plain: y = W2 · act(W1 x + b1) + b2
//   gated: h = W1 x + b1 with 2·hidden rows; y = W2 · (h[0, hidden) ⊙ act(h[hidden, 2·hidden))) + b2
// The gated split mirrors sl.GatedUnit(feature_activation=None, gate_activation=act): the
// first half is the feature, the second half the (activated) gate. Every MRT2 spec is plain
// (ffn_use_gated_activation=False) with gelu (tanh approximation) and biases.
// Weights are dense-layout, row-major [out, in]: W1 [hidden or 2·hidden, model],
// W2 [model, hidden]; biases count 0 means absent.
enum class Activation : std::uint8_t { gelu_tanh, relu, silu };

struct FfnShape {
  std::size_t model = 0;
  std::size_t hidden = 0;
  bool gated = false;
  Activation activation = Activation::gelu_tanh;
};

struct FfnWeights {
  WeightView w1, b1, w2, b2;
};

// Floats of scratch ffn needs: the hidden activations (twice as many when gated).
std::size_t ffn_scratch_size(const FfnShape& shape);

float activate(Activation activation, float x);

void ffn(const FfnShape& shape, const FfnWeights& weights, const float* x, float* scratch,
         float* y);

}  // namespace continuo::kernels
