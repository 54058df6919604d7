#pragma once

#include <cstddef>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Streaming strided 2-D convolution over (time × frequency): the official sl.Conv2D step
// with strides (st, sf), time_padding "semicausal" and explicit frequency padding, as the
// SpectroStream encoder's downsampling convs (magenta_rt/jax/spectrostream.py: conv2d;
// SL/jax/convolution.py: BaseConv.step keeps kt − st past frames for "semicausal").
//
// Layouts, channels innermost (the official NHWC):
//   x       [frames, freq, cin]          the new input frames, frames a multiple of st
//   y       [frames/st, out_freq, cout]  out_freq = (freq + pad_left + pad_right − kf)/sf + 1
//   weight  [kt, kf, cin, cout]          the official kernel as stored (HWIO)
//   bias    [cout] (count 0: none)
//   history [kt − st, freq, cin]         the last kt − st input frames, oldest first; zeros
//                                        after a reset (the official initial state)
// y[τ, o] = b + Σ_{i<kt, j<kf} in[st·τ − (kt − st) + i, sf·o − pad_left + j] · W[i, j]
// with `in` the history followed by x (input frame 0 = the call's first) and zeros outside
// [0, freq) in frequency. Official frequency padding: kf − sf in all, (kf − sf)/2 left.
// Output frame τ ends at input frame st·τ + st − 1, so a call's output depends only on its
// own and earlier frames; calling once or per st frames gives the same result.
struct Conv2dStridedShape {
  int kt = 1;
  int kf = 1;
  int st = 1;
  int sf = 1;
  int cin = 0;
  int cout = 0;
  int freq = 0;  // input bins
  int pad_left = 0;
  int pad_right = 0;
  int frames = 1;  // input frames per call
};

int conv2d_strided_out_freq(const Conv2dStridedShape& shape);
std::size_t conv2d_strided_history_size(const Conv2dStridedShape& shape);  // floats
std::size_t conv2d_strided_scratch_size(const Conv2dStridedShape& shape);  // floats

// Updates `history` to the last kt − st frames of (history, x). y must not alias x.
// std::invalid_argument if kt < st or frames is not a multiple of st.
void conv2d_strided(const Conv2dStridedShape& shape, WeightView weight, WeightView bias, float* history,
                    const float* x, float* scratch, float* y);

}  // namespace continuo::kernels
