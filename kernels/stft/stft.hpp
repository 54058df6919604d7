#pragma once

#include <cstddef>

#include "kernels/fft/fft.hpp"

namespace continuo::kernels {

// Forward STFT as SpectroStream's input stage, the mirror of istft
// (magenta_rt/jax/spectrostream.py: spectrostream_stft_config with keep_dc; SL/jax/dsp.py:
// STFT = Frame → window → RFFT, fft_padding "right"). Frame t of a call covers the
// samples [t·hop, t·hop + fft_size) of x: a frame reaches fft_size − hop samples past its
// hop (the official "reverse_causal" time padding), so the caller passes those lookahead
// samples along and keeps them for the next call. Frame length = fft_size. Per audio
// channel: periodic Hann window, forward DFT (e^{−2πijk/n}, unnormalised, as numpy's rfft),
// bins 0 … fft_size/2 − 1 (the Nyquist bin dropped).
//
// Layouts:
//   x  [(frames − 1)·hop + fft_size, channels]   interleaved samples
//   y  [channels, frames, fft_size/2, 2]          one spectrogram per audio channel (re, im),
//                                                 the layout istft reads
struct StftShape {
  int fft_size = 0;
  int hop = 0;
  int channels = 0;
  int frames = 1;
};

// The periodic Hann window SL/jax/signal.py: hann_window (ported from tf.signal),
// computed in double and rounded once.
void hann_window(int length, float* window);

std::size_t stft_scratch_size(const StftShape& shape);  // floats

// plan: make_fft_plan(fft_size); window: hann_window(fft_size). No allocation.
void stft(const StftShape& shape, const FftPlan& plan, const float* window, const float* x, float* scratch,
          float* y);

}  // namespace continuo::kernels
