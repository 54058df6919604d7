#pragma once

#include <cstddef>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Streaming 2-D transposed convolution over (time × frequency), the official
// sl.Conv2DTranspose step with time_padding "causal" and spatial_padding "same"
// (SL/jax/convolution.py: Conv2DTranspose.step, transpose_conv_explicit_padding).
// The official op is lax.conv_general_dilated with lhs_dilation = strides and the kernel
// not flipped, so input pixel (τ, i) adds x[τ, i] · W[a, b] to output pixel
//   (st·τ + kt − 1 − a,  sf·i + pad_left − b)      for a < kt, b < kf,
// frequencies outside [0, freq·sf) dropped. Output frame n is complete once every input
// frame τ with st·τ ≤ n has arrived: a call with `frames` inputs emits frames·st outputs and
// keeps the kt − st still-open frames (without bias) in `overlap`, zeros after a reset.
//
// Layouts, channels innermost:
//   x       [frames, freq, cin]
//   y       [frames·st, freq·sf, cout]
//   weight  [kt, kf, cin, cout]  as stored; bias [cout] (count 0: none)
//   overlap [kt − st, freq·sf, cout]
// Requires kt ≥ st (the official kernels are max(3, 2·stride)).
struct ConvTranspose2dShape {
  int kt = 1;
  int kf = 1;
  int st = 1;
  int sf = 1;
  int cin = 0;
  int cout = 0;
  int freq = 0;      // input bins; the output has freq·sf
  int pad_left = 0;  // conv_transpose_same_pad(kf, sf) for the official "same"
  int frames = 1;    // input frames per call
};

// Left padding of the official "same" transposed convolution (dilation 1).
int conv_transpose_same_pad(int kernel, int stride);

std::size_t conv_transpose2d_overlap_size(const ConvTranspose2dShape& shape);  // floats
std::size_t conv_transpose2d_scratch_size(const ConvTranspose2dShape& shape);  // floats

void conv_transpose2d(const ConvTranspose2dShape& shape, WeightView weight, WeightView bias, float* overlap,
                      const float* x, float* scratch, float* y);

}  // namespace continuo::kernels
