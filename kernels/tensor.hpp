#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace continuo::kernels {

// Weights as the runtime hands them to ops: a view of fp32 or bf16 values, usually straight
// out of a memory-mapped safetensors file. Ops accumulate in fp32 whatever the storage.
enum class DType : std::uint8_t { f32, bf16 };

struct WeightView {
  const void* data = nullptr;
  DType dtype = DType::f32;
  std::size_t count = 0;

  float at(std::size_t i) const {
    if (dtype == DType::f32) return static_cast<const float*>(data)[i];
    return bf16_to_f32(static_cast<const std::uint16_t*>(data)[i]);
  }
  static float bf16_to_f32(std::uint16_t bits);
};

std::size_t dtype_size(DType dtype);

}  // namespace continuo::kernels
