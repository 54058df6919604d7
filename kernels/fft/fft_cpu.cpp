#include "kernels/fft/fft.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>
#include <string>

namespace continuo::kernels {
namespace {

using Complex = std::complex<float>;

// Plain complex product: std::complex's operator* takes the slow NaN-recovery path
// (__mulsc3) unless -ffast-math is on.
Complex mul(Complex a, Complex b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

struct Pass {
  const FftPlan& plan;
  bool inverse;

  Complex twiddle(std::size_t index) const {
    const Complex w = plan.twiddles[index % static_cast<std::size_t>(plan.n)];
    return inverse ? std::conj(w) : w;
  }

  // DFT of the `size` inputs in[0], in[stride], … into out[0 .. size): the radix-r
  // sub-transforms of the r decimated sequences, then m butterflies of r points each.
  void transform(const Complex* in, std::size_t stride, Complex* out, std::size_t size, std::size_t level) const {
    if (size == 1) {
      out[0] = in[0];
      return;
    }
    const auto r = static_cast<std::size_t>(plan.radices[level]);
    const std::size_t m = size / r;
    for (std::size_t q = 0; q < r; ++q) transform(in + q * stride, stride * r, out + q * m, m, level + 1);
    const std::size_t root = static_cast<std::size_t>(plan.n) / r;  // w_n^root = w_r
    std::array<Complex, kMaxFftRadix> t;
    for (std::size_t k = 0; k < m; ++k) {
      for (std::size_t q = 0; q < r; ++q) t[q] = mul(out[q * m + k], twiddle(q * k * stride));
      for (std::size_t u = 0; u < r; ++u) {
        Complex sum = t[0];
        for (std::size_t q = 1; q < r; ++q) sum += mul(t[q], twiddle((q * u % r) * root));
        out[u * m + k] = sum;
      }
    }
  }
};

std::vector<int> factorise(int n) {
  std::vector<int> radices;
  while (n % 4 == 0) {
    radices.push_back(4);
    n /= 4;
  }
  for (int p = 2; n > 1; ++p) {
    while (n % p == 0) {
      if (p > kMaxFftRadix) throw std::invalid_argument("fft: prime factor " + std::to_string(p) + " too large");
      radices.push_back(p);
      n /= p;
    }
  }
  return radices;
}

}  // namespace

FftPlan make_fft_plan(int n) {
  if (n < 1) throw std::invalid_argument("fft: length must be positive");
  FftPlan plan{n, factorise(n), {}};
  plan.twiddles.reserve(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) {
    const double angle = -2.0 * std::numbers::pi * k / n;
    plan.twiddles.emplace_back(static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle)));
  }
  return plan;
}

void fft(const FftPlan& plan, FftDirection direction, const Complex* in, Complex* out) {
  Pass{plan, direction == FftDirection::inverse}.transform(in, 1, out, static_cast<std::size_t>(plan.n), 0);
}

}  // namespace continuo::kernels
