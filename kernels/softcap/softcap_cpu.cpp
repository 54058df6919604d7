#include "kernels/softcap/softcap.hpp"

#include <cmath>

namespace continuo::kernels {

void softcap(const SoftcapShape& shape, const float* x, float* y) {
  for (std::size_t i = 0; i < shape.n; ++i) y[i] = shape.cap * std::tanh(x[i] / shape.cap);
}

}  // namespace continuo::kernels
