#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// y = W·x (+ b) for one input vector (batch 1: a GEMV).
// W is row-major [out, in]: output r reads the contiguous row W[r*in .. r*in+in). The
// official checkpoints store Dense kernels as [in, out] (x @ kernel); the loader transposes
// them once so every output streams one row (the layout a GEMV and its CUDA twin want).
// b is [out]; a WeightView with count 0 means "no bias".
struct DenseShape {
  std::size_t in = 0;
  std::size_t out = 0;
};

void dense(const DenseShape& shape, WeightView weight, WeightView bias, const float* x, float* y);

// Only rows [begin, end) of the output, written to y[0 .. end-begin): the depth decoder
// needs one RVQ level's 1024 logits, not all 12 × 1024 + 7 of to_logits.
void dense_rows(const DenseShape& shape, WeightView weight, WeightView bias, const float* x,
                std::size_t begin, std::size_t end, float* y);

namespace detail {

// Independent partial sums: a float reduction only vectorises if its order may change, and
// -O2 may not reorder float adds. kLanes fixed accumulators give the compiler vector lanes
// with a fixed, documented summation order (so bf16 and fp32 weights agree bit for bit).
inline constexpr std::size_t kLanes = 16;

inline float widen(float value) { return value; }
inline float widen(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

template <typename W>
float dot(const W* w, const float* x, std::size_t n) {
  float acc[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) acc[l] += widen(w[i + l]) * x[i + l];
  }
  for (std::size_t l = 0; i < n; ++i, ++l) acc[l] += widen(w[i]) * x[i];
  // Pairwise fold: fixed order, and halves the rounding error of a serial fold.
  for (std::size_t width = kLanes / 2; width > 0; width /= 2) {
    for (std::size_t l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

}  // namespace detail

// Plain fp32 dot product with the same lane order as dense (attention scores use it).
inline float dot(const float* a, const float* b, std::size_t n) { return detail::dot(a, b, n); }

}  // namespace continuo::kernels
