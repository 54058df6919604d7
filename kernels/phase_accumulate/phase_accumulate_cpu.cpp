#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/phase_accumulate/phase_accumulate.hpp"

namespace continuo::kernels {

std::size_t phase_accumulate_state_size(const PhaseAccumulateShape& s) {
  return static_cast<std::size_t>(s.channels) * static_cast<std::size_t>(s.fft_size / 2);
}

void phase_accumulate(const PhaseAccumulateShape& s, int first_frame, double* phase, float* x) {
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  const int bins = s.fft_size / 2;
  for (int c = 0; c < s.channels; ++c) {
    double* running = phase + static_cast<std::size_t>(c) * bins;
    for (int t = std::max(first_frame, 0); t < s.frames; ++t) {
      float* z = x + (static_cast<std::size_t>(c) * s.frames + t) * s.fft_size;
      for (int k = 0; k < bins; ++k) {
        const double re = z[2 * k];
        const double im = z[2 * k + 1];
        running[k] = std::remainder(running[k] + std::atan2(im, re), kTwoPi);
        const double magnitude = std::sqrt(re * re + im * im + 1e-20);
        z[2 * k] = static_cast<float>(magnitude * std::cos(running[k]));
        z[2 * k + 1] = static_cast<float>(magnitude * std::sin(running[k]));
      }
    }
  }
}

}  // namespace continuo::kernels
