#pragma once

#include <cstddef>

#include "kernels/fft/fft.hpp"

namespace continuo::kernels {

// Streaming inverse STFT with causal overlap-add, as SpectroStream's output stage
// (magenta_rt/jax/spectrostream.py: spectrostream_inverse_stft_config with keep_dc;
// SL/jax/dsp.py: InverseSTFT.step = IRFFT → window → OverlapAdd.step, causal padding).
// Per audio channel and frame: the spectrum is bins 0 .. fft_size/2 − 1 as (re, im) with a
// zero Nyquist bin appended; irfft as numpy (the imaginary part of DC is ignored, 1/n
// scale); times the synthesis window; overlap-added at `hop`. A call emits frames·hop
// samples per channel and keeps the fft_size − hop samples that later frames still add to.
// Frame length = fft_size (no FFT padding or truncation), hop ≤ fft_size.
//
// Layouts:
//   x       [channels, frames, fft_size/2, 2]  one spectrogram per audio channel
//   window  [fft_size]                          from istft_window
//   overlap [fft_size − hop, channels]          zeros after a reset
//   y       [frames·hop, channels]              interleaved samples
struct IstftShape {
  int fft_size = 0;
  int hop = 0;
  int channels = 0;
  int frames = 1;
};

// The official synthesis window signal.inverse_stft_window_fn(hop, hann_window)(fft_size):
// the periodic Hann window divided by the sum of its squares over the frames overlapping
// each sample (0 where that sum is 0) — Griffin & Lim's eq. 7 (SL/jax/signal.py).
void istft_window(int fft_size, int hop, float* window);

std::size_t istft_overlap_size(const IstftShape& shape);  // floats
std::size_t istft_scratch_size(const IstftShape& shape);  // floats

// plan: make_fft_plan(fft_size).
void istft(const IstftShape& shape, const FftPlan& plan, const float* window, float* overlap, const float* x,
           float* scratch, float* y);

}  // namespace continuo::kernels
