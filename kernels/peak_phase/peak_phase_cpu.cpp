#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/peak_phase/peak_phase.hpp"

namespace continuo::kernels {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;

// The peak's frequency in bins: the vertex of the parabola through the log magnitudes.
double peak_frequency(const float* m, int p) {
  const double left = std::log(static_cast<double>(m[p - 1]));
  const double centre = std::log(static_cast<double>(m[p]));
  const double right = std::log(static_cast<double>(m[p + 1]));
  const double vertex = 0.5 * (left - right) / (left - 2.0 * centre + right);
  return p + std::clamp(vertex, -0.5, 0.5);
}

bool is_peak(const float* m, int k, int bins, float threshold) {
  return k >= 1 && k <= bins - 2 && m[k] >= m[k - 1] && m[k] > m[k + 1] && m[k] > threshold;
}

// Bins from..to (inclusive) locked to the phase ψ[p] + π κ of their peak p.
void lock_region(int from, int to, int p, double kappa, const float* m, double* psi, float* z) {
  double locked = psi[p] + kPi * kappa;
  locked = locked - kTwoPi * std::floor(locked / kTwoPi);
  for (int k = from; k <= to; ++k) {
    psi[k] = locked;
    const double phase = locked - kPi * k;
    z[2 * k] = static_cast<float>(m[k] * std::cos(phase));
    z[2 * k + 1] = static_cast<float>(m[k] * std::sin(phase));
  }
}

void frame(int bins, double* psi, float* m, float* z) {
  float loudest = 0.0f;
  for (int k = 0; k < bins; ++k) {
    const float re = z[2 * k];
    const float im = z[2 * k + 1];
    // One rounding per operation, as PyTorch's (separate statements: never a fused multiply-add).
    const float re2 = re * re;
    const float im2 = im * im;
    const float power = re2 + im2;
    m[k] = std::sqrt(power + 1e-20f);
    loudest = std::max(loudest, m[k]);
  }
  const float threshold = kPeakFloor * loudest;
  int previous = -1;  // the last peak seen, whose region is still open
  int from = 0;
  for (int k = 0; k < bins; ++k) {
    if (!is_peak(m, k, bins, threshold)) continue;
    if (previous >= 0) {  // the regions of two peaks meet halfway, the middle bin going left
      const int to = (previous + k) / 2;
      lock_region(from, to, previous, peak_frequency(m, previous), m, psi, z);
      from = to + 1;
    }
    previous = k;
  }
  if (previous >= 0) {
    lock_region(from, bins - 1, previous, peak_frequency(m, previous), m, psi, z);
    return;
  }
  for (int k = 0; k < bins; ++k) lock_region(k, k, k, k, m, psi, z);  // no peak: every bin its own
}

}  // namespace

std::size_t peak_phase_state_size(const PeakPhaseShape& s) {
  return static_cast<std::size_t>(s.channels) * static_cast<std::size_t>(s.fft_size / 2);
}

std::size_t peak_phase_scratch_size(const PeakPhaseShape& s) { return static_cast<std::size_t>(s.fft_size / 2); }

void peak_phase(const PeakPhaseShape& s, int first_frame, double* psi, float* scratch, float* x) {
  const int bins = s.fft_size / 2;
  for (int c = 0; c < s.channels; ++c) {
    for (int t = std::max(first_frame, 0); t < s.frames; ++t) {
      frame(bins, psi + static_cast<std::size_t>(c) * bins, scratch,
            x + (static_cast<std::size_t>(c) * s.frames + t) * s.fft_size);
    }
  }
}

}  // namespace continuo::kernels
