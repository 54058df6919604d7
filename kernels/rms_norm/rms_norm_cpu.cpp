#include "kernels/rms_norm/rms_norm.hpp"

#include <cmath>

namespace continuo::kernels {
namespace {

float mean_square(const float* x, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += x[i] * x[i];
  return sum / static_cast<float>(n);
}

float inverse_rms(const RmsNormShape& shape, const float* x) {
  return 1.0f / std::sqrt(mean_square(x, shape.dim) + shape.eps);
}

float normalized(WeightView scale, float x, float inv, std::size_t i) {
  const float v = x * inv;
  return scale.count != 0 ? v * scale.at(i) : v;
}

}  // namespace

void rms_norm(const RmsNormShape& shape, WeightView scale, const float* x, float* y) {
  const float inv = inverse_rms(shape, x);
  for (std::size_t i = 0; i < shape.dim; ++i) y[i] = normalized(scale, x[i], inv, i);
}

void rms_norm_residual(const RmsNormShape& shape, WeightView scale, const float* y, float* residual) {
  const float inv = inverse_rms(shape, y);
  for (std::size_t i = 0; i < shape.dim; ++i) residual[i] += normalized(scale, y[i], inv, i);
}

}  // namespace continuo::kernels
