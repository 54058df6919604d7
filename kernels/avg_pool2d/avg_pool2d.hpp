#pragma once

namespace continuo::kernels {

// Non-overlapping average pooling over (time × frequency), pool = strides = (st, sf): the
// shortcut of the SpectroStream encoder's downsampling blocks (magenta_rt/jax/spectrostream.py:
// conv2d_residual_unit's sl.AveragePooling2D, "semicausal" time padding = no padding and no
// state when pool = stride, "valid" frequency padding; SL/jax/pooling.py: sum / pool area).
//   x [frames, freq, channels], frames a multiple of st
//   y [frames/st, freq/sf, channels]  (trailing bins that fill no window are dropped)
struct AvgPool2dShape {
  int frames = 1;
  int freq = 0;
  int channels = 0;
  int st = 1;
  int sf = 1;
};

// y[τ, o, c] = (Σ_{i<st, j<sf} x[st·τ + i, sf·o + j, c]) / (st·sf). y must not alias x.
void avg_pool2d(const AvgPool2dShape& shape, const float* x, float* y);

}  // namespace continuo::kernels
