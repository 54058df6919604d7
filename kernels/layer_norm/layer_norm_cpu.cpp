#include "kernels/layer_norm/layer_norm.hpp"

#include <cmath>

namespace continuo::kernels {
namespace {

float mean(const float* x, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += x[i];
  return sum / static_cast<float>(n);
}

// Two passes (mean, then squared deviations) like the official code: no cancellation.
float variance(const float* x, std::size_t n, float mu) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += (x[i] - mu) * (x[i] - mu);
  return sum / static_cast<float>(n);
}

}  // namespace

void layer_norm(const LayerNormShape& shape, WeightView scale, WeightView bias, const float* x,
                float* y) {
  const float mu = mean(x, shape.dim);
  const float inv = 1.0f / std::sqrt(variance(x, shape.dim, mu) + shape.eps);
  for (std::size_t i = 0; i < shape.dim; ++i) {
    float v = (x[i] - mu) * inv;
    if (scale.count != 0) v *= scale.at(i);
    if (bias.count != 0) v += bias.at(i);
    y[i] = v;
  }
}

}  // namespace continuo::kernels
