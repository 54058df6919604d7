#pragma once

#include <complex>
#include <vector>

namespace continuo::kernels {

// Mixed-radix complex FFT of any length whose prime factors are ≤ kMaxFftRadix (960 =
// 4·4·4·3·5 for SpectroStream's 48 kHz STFT, 64 for the tiny one): recursive
// decimation in time, one generic radix-r butterfly per factor.
inline constexpr int kMaxFftRadix = 64;

// Built once (it allocates), then read-only: the factors and the n twiddles e^{−2πik/n},
// computed in double and rounded once.
struct FftPlan {
  int n = 0;
  std::vector<int> radices;  // radix 4 first, then 2, 3, 5, … ; product n
  std::vector<std::complex<float>> twiddles;
};

// std::invalid_argument if n < 1 or a prime factor of n exceeds kMaxFftRadix.
FftPlan make_fft_plan(int n);

enum class FftDirection { forward, inverse };

// out[k] = Σ_j in[j]·e^{∓2πijk/n} (− forward, + inverse), unnormalised, as numpy's fft
// and n·ifft. in and out must not overlap. No allocation.
void fft(const FftPlan& plan, FftDirection direction, const std::complex<float>* in, std::complex<float>* out);

}  // namespace continuo::kernels
