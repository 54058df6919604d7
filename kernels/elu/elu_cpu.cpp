#include "kernels/elu/elu.hpp"

#include <cmath>

namespace continuo::kernels {

void elu(std::size_t n, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : std::expm1(x[i]);
}

}  // namespace continuo::kernels
