#include "kernels/rms_norm/rms_norm.hpp"

#include <cmath>

namespace continuo::kernels {
namespace {

float mean_square(const float* x, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += x[i] * x[i];
  return sum / static_cast<float>(n);
}

}  // namespace

void rms_norm(const RmsNormShape& shape, WeightView scale, const float* x, float* y) {
  const float inv = 1.0f / std::sqrt(mean_square(x, shape.dim) + shape.eps);
  for (std::size_t i = 0; i < shape.dim; ++i) {
    const float v = x[i] * inv;
    y[i] = scale.count != 0 ? v * scale.at(i) : v;
  }
}

}  // namespace continuo::kernels
