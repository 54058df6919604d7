#pragma once

namespace continuo::kernels {

// y += upsample(x): every input pixel repeated st times in time and sf times in frequency,
// the official sl.Upsample2D (SL/jax/simple.py: Upsample2D, jnp.repeat on both axes) fused
// with the residual sum it feeds (SL/jax/combinators.py: Residual, y = body(x) + shortcut(x)).
// x [frames, freq, channels], y [frames·st, freq·sf, channels]. Stateless.
struct Upsample2dShape {
  int frames = 1;
  int freq = 0;
  int channels = 0;
  int st = 1;
  int sf = 1;
};

void upsample2d_add(const Upsample2dShape& shape, const float* x, float* y);

}  // namespace continuo::kernels
