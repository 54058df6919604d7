#include "kernels/istft/istft.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>

namespace continuo::kernels {
namespace {

using Complex = std::complex<float>;

std::size_t span_samples(const IstftShape& s) { return static_cast<std::size_t>((s.frames - 1) * s.hop + s.fft_size); }

// SL/jax/signal.py: hann_window (periodic), ported from tf.signal.
double hann(int i, int length) {
  const int even = 1 - length % 2;
  const int denominator = length + even - 1;
  return 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / denominator);
}

// The full Hermitian spectrum of one frame: bins as given, DC real, Nyquist 0.
void hermitian(const float* bins, int n, Complex* spectrum) {
  const int half = n / 2;
  spectrum[0] = {bins[0], 0.0f};
  for (int k = 1; k < half; ++k) {
    spectrum[k] = {bins[2 * k], bins[2 * k + 1]};
    spectrum[n - k] = std::conj(spectrum[k]);
  }
  spectrum[half] = {0.0f, 0.0f};
}

}  // namespace

void istft_window(int fft_size, int hop, float* window) {
  const int overlaps = (fft_size + hop - 1) / hop;
  for (int i = 0; i < fft_size; ++i) {
    double denominator = 0.0;
    for (int k = 0; k < overlaps; ++k) {
      const int j = i % hop + k * hop;
      if (j < fft_size) denominator += hann(j, fft_size) * hann(j, fft_size);
    }
    window[i] = denominator == 0.0 ? 0.0f : static_cast<float>(hann(i, fft_size) / denominator);
  }
}

std::size_t istft_overlap_size(const IstftShape& s) {
  return static_cast<std::size_t>(s.fft_size - s.hop) * s.channels;
}

std::size_t istft_scratch_size(const IstftShape& s) {
  return 4 * static_cast<std::size_t>(s.fft_size) + span_samples(s) * s.channels;
}

void istft(const IstftShape& s, const FftPlan& plan, const float* window, float* overlap, const float* x,
           float* scratch, float* y) {
  const auto n = static_cast<std::size_t>(s.fft_size);
  auto* spectrum = reinterpret_cast<Complex*>(scratch);
  Complex* signal = spectrum + n;
  float* acc = scratch + 4 * n;  // [span, channels]
  const std::size_t open = istft_overlap_size(s);
  std::memcpy(acc, overlap, open * sizeof(float));
  std::fill(acc + open, acc + span_samples(s) * s.channels, 0.0f);
  const float scale = 1.0f / static_cast<float>(n);
  for (int c = 0; c < s.channels; ++c) {
    for (int t = 0; t < s.frames; ++t) {
      hermitian(x + (static_cast<std::size_t>(c) * s.frames + t) * n, s.fft_size, spectrum);
      fft(plan, FftDirection::inverse, spectrum, signal);
      float* out = acc + static_cast<std::size_t>(t) * s.hop * s.channels + c;
      for (std::size_t j = 0; j < n; ++j) out[j * s.channels] += signal[j].real() * scale * window[j];
    }
  }
  const std::size_t emitted = static_cast<std::size_t>(s.frames) * s.hop * s.channels;
  std::memcpy(y, acc, emitted * sizeof(float));
  std::memcpy(overlap, acc + emitted, open * sizeof(float));
}

}  // namespace continuo::kernels
