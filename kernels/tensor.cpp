#include "kernels/tensor.hpp"

#include <cstring>

namespace continuo::kernels {

// bf16 is the top half of an fp32: widening is exact.
float WeightView::bf16_to_f32(std::uint16_t bits) {
  const std::uint32_t widened = static_cast<std::uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &widened, sizeof value);
  return value;
}

std::size_t dtype_size(DType dtype) { return dtype == DType::f32 ? 4 : 2; }

}  // namespace continuo::kernels
