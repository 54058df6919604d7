#include "kernels/elu/elu.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace continuo::kernels {
namespace {

// expm1(x) for x ≤ 0, branch-free so the loop vectorises: x = n·ln2 + r with |r| ≤ ln2/2,
// expm1(x) = 2ⁿ·expm1(r) + (2ⁿ − 1), expm1(r) by its Taylor series to r⁷ (truncation
// < 2e-8 relative). For n = 0 that is the series itself, so small |x| keeps full relative
// accuracy; below, 2ⁿ − 1 ≤ −0.29 dominates and nothing cancels. Max error vs std::expm1
// ≈ 2e-7 relative. x is clamped at −87 (2ⁿ stays normal; expm1 is −1 in float there).
[[gnu::always_inline]] inline float expm1_negative(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;  // ln 2 = hi + lo, hi with 12 zero low bits
  constexpr float kLn2Lo = 1.42860682030941723e-6f;
  constexpr float kRound = 12582912.0f;  // 1.5·2²³: adding it rounds to an integer
  x = std::max(x, -87.0f);
  const float n = (x * kLog2e + kRound) - kRound;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r * r + r;
  const float scale = std::bit_cast<float>(static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23);
  return scale * p + (scale - 1.0f);
}

[[gnu::always_inline]] inline void elu_loop(std::size_t n, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float e = expm1_negative(std::min(v, 0.0f));
    y[i] = v > 0.0f ? v : e;
  }
}

void elu_sse2(std::size_t n, const float* x, float* y) { elu_loop(n, x, y); }
__attribute__((target("avx2,fma"))) void elu_avx2(std::size_t n, const float* x, float* y) { elu_loop(n, x, y); }

using EluFn = void (*)(std::size_t, const float*, float*);

EluFn pick_elu() {
  const char* forced = std::getenv("CONTINUO_CPU");  // as kernels/conv2d: "sse2" forces the baseline
  if (forced != nullptr && std::string_view(forced) == "sse2") return elu_sse2;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? elu_avx2 : elu_sse2;
}

}  // namespace

void elu(std::size_t n, const float* x, float* y) {
  static const EluFn fn = pick_elu();
  fn(n, x, y);
}

}  // namespace continuo::kernels
