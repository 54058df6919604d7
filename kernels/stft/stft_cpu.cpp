#include "kernels/stft/stft.hpp"

#include <cmath>
#include <complex>
#include <numbers>

namespace continuo::kernels {

void hann_window(int length, float* window) {
  for (int i = 0; i < length; ++i) {
    window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / length));
  }
}

std::size_t stft_scratch_size(const StftShape& s) { return 4 * static_cast<std::size_t>(s.fft_size); }

void stft(const StftShape& s, const FftPlan& plan, const float* window, const float* x, float* scratch, float* y) {
  using Complex = std::complex<float>;
  const auto n = static_cast<std::size_t>(s.fft_size);
  auto* frame = reinterpret_cast<Complex*>(scratch);
  Complex* spectrum = frame + n;
  const std::size_t bins = n / 2;
  for (int c = 0; c < s.channels; ++c) {
    for (int t = 0; t < s.frames; ++t) {
      const float* in = x + static_cast<std::size_t>(t) * s.hop * s.channels + c;
      for (std::size_t j = 0; j < n; ++j) frame[j] = {in[j * s.channels] * window[j], 0.0f};
      fft(plan, FftDirection::forward, frame, spectrum);
      float* out = y + (static_cast<std::size_t>(c) * s.frames + t) * n;
      for (std::size_t k = 0; k < bins; ++k) {
        out[2 * k] = spectrum[k].real();
        out[2 * k + 1] = spectrum[k].imag();
      }
    }
  }
}

}  // namespace continuo::kernels
