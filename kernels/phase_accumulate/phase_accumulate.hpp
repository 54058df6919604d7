#pragma once

#include <cstddef>

namespace continuo::kernels {

// The codec's `phase_accumulate` output mode (continuo's own, not in the official model;
// tools/train/mrt2_torch/spectrostream.py: accumulate_phase, manifest key
// codec_phase_accumulate = 1). The decoder's complex output per bin, z = (re, im), gives the
// magnitude |z| and how far the bin's phase turns from the previous STFT frame, angle(z) (the
// whole turn, not the deviation from the bin's centre frequency: a partial turns every bin it
// reaches alike, smooth across bins for the decoder's convolutions); a running phase per
// (audio channel, bin) turns that into the spectrum: φ ← φ + angle(z), z ← |z|·(cos φ, sin φ).
// Why: a held note must turn by the same angle every frame, which a decoder fed the same codes
// emits as the same output; emitting the spectrum itself it could only hold phases still.
//
// In place on x [channels, frames, fft_size/2, 2] (istft's spectrum layout). Frames before
// `first_frame` are left as they are and do not move the phase (the lookahead's masked frames:
// the running phase starts at the first heard frame). phase [channels, fft_size/2] in double,
// zeros after a reset, kept in [−π, π] (the CUDA twin keeps the same values). The magnitude is
// sqrt(re² + im² + 1e-20) and everything is computed in double, rounded once to fp32.
struct PhaseAccumulateShape {
  int fft_size = 0;
  int channels = 0;
  int frames = 1;
};

std::size_t phase_accumulate_state_size(const PhaseAccumulateShape& shape);  // doubles

void phase_accumulate(const PhaseAccumulateShape& shape, int first_frame, double* phase, float* x);

}  // namespace continuo::kernels
