#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/dense/dense.hpp"
#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Streaming 2-D convolution over (time × frequency), stride 1, the official
// sl.Conv2D step with time_padding "semicausal" (= causal at stride 1) and explicit frequency
// padding (SL/jax/convolution.py: BaseConv.step, Conv2D._layer;
// magenta_rt/jax/spectrostream.py: conv2d).
//
// Layouts, channels innermost (the official NHWC):
//   x       [frames, freq, cin]     the new input frames of this call
//   y       [frames, freq, cout]
//   weight  [kt, kf, cin, cout]     the official kernel as stored (HWIO)
//   bias    [cout] (count 0: none)
//   history [kt−1, freq, cin]       the last kt−1 input frames of earlier calls, oldest
//                                   first; zeros after a reset (the official initial state)
// y[t, f] = b + Σ_{i<kt, j<kf} in[t − kt + 1 + i, f − pad_left + j] · W[i, j]
// with `in` the history followed by x, and zeros outside [0, freq) in frequency
// (pad_left below, kf − 1 − pad_left above). A cross-correlation, as lax.conv_general_dilated.
// Calling once with all frames or once per frame gives the same result.
struct Conv2dShape {
  int kt = 1;
  int kf = 1;
  int cin = 0;
  int cout = 0;
  int freq = 0;
  int pad_left = 0;  // official: (kf − 1) / 2
  int frames = 1;    // input (= output) frames per call
};

std::size_t conv2d_history_size(const Conv2dShape& shape);  // floats
std::size_t conv2d_scratch_size(const Conv2dShape& shape);  // floats

// Updates `history` to the last kt−1 frames of (history, x). y must not alias x.
void conv2d(const Conv2dShape& shape, WeightView weight, WeightView bias, float* history, const float* x,
            float* scratch, float* y);

namespace detail {

// The convolutions' inner loops, one GEMM-like kernel (kernels/conv2d/conv2d_cpu.cpp): for
// every pixel p of a grid,
//   c_p[j] += Σ_s Σ_{k < s.k} a_p[s.a_offset + k] · weight[s.b_offset + k·n + j],  j < n,
// with a_p = a + row·a_row + col·a_col and c_p = c + row·c_row + col·c_col. A segment is a run
// of contiguous input floats against n-wide weight rows (a conv2d time tap: kf·cin floats).
// Register tiles of pixels × output channels, weights streamed once per tile, vectorised
// over n: SSE2, AVX2 + FMA or AVX-512, the widest the CPU has, chosen at run time
// (CONTINUO_CPU=sse2 or avx2 in the environment forces a narrower one). Large calls are
// shared with one persistent helper thread (CONTINUO_THREADS=1: none). Each output is one
// fixed chain of multiply-adds whatever the grid, the path or the thread, so streaming is
// bit for bit and results do not depend on the split.
struct PixelGrid {
  int rows = 0;
  int cols = 0;
  std::size_t a_row = 0, a_col = 0, c_row = 0, c_col = 0;
};
struct GemmSegment {
  std::size_t a_offset = 0;
  std::size_t b_offset = 0;
  int k = 0;
};
// Floats of `pack` conv_gemm needs for segments of total length total_k (weights re-laid out
// when n is too narrow to vectorise over).
std::size_t conv_gemm_pack_size(std::size_t total_k, int n);
void conv_gemm(const PixelGrid& grid, const float* a, float* c, WeightView weight, const GemmSegment* segments,
               int count, int n, float* pack);

// y[c] += a · w[c]: a simple inner loop over contiguous output channels, which vectorises;
// one instantiation per weight storage type.
template <typename W>
void axpy(float a, const W* w, float* y, int n) {
  for (int c = 0; c < n; ++c) y[c] += a * widen(w[c]);
}

// Calls f(typed weight pointer) for fp32 or bf16 storage.
template <typename F>
void with_typed(WeightView weight, F&& f) {
  if (weight.dtype == DType::f32) {
    f(static_cast<const float*>(weight.data));
  } else {
    f(static_cast<const std::uint16_t*>(weight.data));
  }
}

// y[p, c] = bias[c] (or 0) for `pixels` rows of n channels.
void fill_bias(WeightView bias, int pixels, int n, float* y);

}  // namespace detail

}  // namespace continuo::kernels
