#include "kernels/dense/dense.hpp"

namespace continuo::kernels {
namespace {

float bias_at(WeightView bias, std::size_t row) { return bias.count == 0 ? 0.0f : bias.at(row); }

// One loop per storage type, so the inner dot sees a typed pointer and vectorises.
template <typename W>
void rows(const W* weight, std::size_t in, WeightView bias, const float* x, std::size_t begin,
          std::size_t end, float* y) {
  for (std::size_t r = begin; r < end; ++r) {
    y[r - begin] = detail::dot(weight + r * in, x, in) + bias_at(bias, r);
  }
}

}  // namespace

void dense_rows(const DenseShape& shape, WeightView weight, WeightView bias, const float* x,
                std::size_t begin, std::size_t end, float* y) {
  if (weight.dtype == DType::f32) {
    rows(static_cast<const float*>(weight.data), shape.in, bias, x, begin, end, y);
  } else {
    rows(static_cast<const std::uint16_t*>(weight.data), shape.in, bias, x, begin, end, y);
  }
}

void dense(const DenseShape& shape, WeightView weight, WeightView bias, const float* x, float* y) {
  dense_rows(shape, weight, bias, x, 0, shape.out, y);
}

}  // namespace continuo::kernels
