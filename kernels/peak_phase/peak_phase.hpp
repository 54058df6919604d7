#pragma once

#include <cstddef>

namespace continuo::kernels {

// The codec's `peak_phase` output mode (continuo's own, not in the official model;
// tools/train/mrt2_torch/spectrostream.py: peak_phase and peak_locked_phases, manifest key
// codec_peak_phase = 1). The decoder's complex output per bin, z = (re, im), gives only the
// magnitude m = |z|; the phases come from the magnitudes, a phase vocoder with identity phase
// locking: each bin turns at the frequency of the spectral peak nearest it. Why: a note's
// partial must turn at its own frequency from frame to frame, which a decoder would otherwise
// have to learn bin by bin; here the magnitudes it learns anyway place it.
//
// Per (audio channel, frame): m = sqrt(re² + im² + 1e-20) in fp32; a peak is a bin k in
// 1 .. bins−2 with m[k] ≥ m[k−1], m[k] > m[k+1] and m[k] > kPeakFloor · max m; its frequency in
// bins, κ, is the vertex of the parabola through the three log magnitudes (double), clamped to
// k ± 0.5. Every bin belongs to its nearest peak (the left one on a tie); without peaks, to
// itself at κ = k. A region's locked phase ψ becomes ψ[peak] + π κ (a partial at κ bins turns
// by 2π κ hop / fft_size = π κ per hop: hop = fft_size / 2), wrapped to [0, 2π) as
// ψ − 2π ⌊ψ / 2π⌋, and bin k's phase is ψ − π k (the inverse STFT's frames start at the
// window's edge, where a sinusoid's bins alternate in sign): z ← m · (cos, sin)(ψ − π k), in
// double, rounded once to fp32.
//
// In place on x [channels, frames, fft_size/2, 2] (istft's spectrum layout). Frames before
// `first_frame` are left as they are and do not move ψ (the lookahead's masked frames). psi
// [channels, fft_size/2] doubles, zeros after a reset; scratch: peak_phase_scratch_size floats.
inline constexpr float kPeakFloor = 1e-3f;

struct PeakPhaseShape {
  int fft_size = 0;
  int channels = 0;
  int frames = 1;
};

std::size_t peak_phase_state_size(const PeakPhaseShape& shape);    // doubles
std::size_t peak_phase_scratch_size(const PeakPhaseShape& shape);  // floats

void peak_phase(const PeakPhaseShape& shape, int first_frame, double* psi, float* scratch, float* x);

}  // namespace continuo::kernels
