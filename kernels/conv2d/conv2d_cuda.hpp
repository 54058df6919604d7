#pragma once

#include <cstddef>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/cuda/cuda.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of conv2d (kernels/conv2d/conv2d.hpp): the same layouts, x [frames, freq,
// cin], y [frames, freq, cout], weight [kt, kf, cin, cout] (fp32 or bf16), bias [cout] (count
// 0: none), history [kt − 1, freq, cin] (zeros after a reset), scratch conv2d_cuda_scratch_size
// floats (0 for most shapes: only calls of few pixels split K), all in device memory; y must
// not alias x, history or scratch. The history stays on the device: the call reads it and then
// replaces it with the last kt − 1 frames of (history, x), so a captured graph streams frame
// after frame. Each output is bias + one fp32 FMA chain over (time tap, frequency tap, input
// channel) in that order, the CPU's order (with split K: bias + the splits' chains in order).
// Enqueued on `stream`, no allocation (graph-safe). std::invalid_argument on a bad shape or
// weight size.
std::size_t conv2d_cuda_scratch_size(const Conv2dShape& shape);  // floats

void conv2d(cudaStream_t stream, const Conv2dShape& shape, DeviceWeightView weight, DeviceWeightView bias,
            float* history, const float* x, float* scratch, float* y);

namespace detail {

// The convolutions' one kernel (conv2d.cu), the device counterpart of kernels::detail::conv_gemm:
// an implicit GEMM whose output pixels lie on up to kMaxConvPhases lattices ("phases"), each
// with its own sub-kernel of taps, so the transposed convolution runs as gathers without
// multiplying zeros (one phase per (time, frequency) output residue) and the plain and strided
// convolutions are one phase.
//
// Output pixel m (row) / mc (column) of a phase is output frame out_row0 + out_row_step·m,
// column out_col0 + out_col_step·mc. Its taps are (a0 + tap_step_t·u, b0 + tap_step_f·v) for
// u < taps_t, v < taps_f, and tap (u, v) reads input frame row_stride·m + u + row_offset and
// bin col_stride·mc + v + col_offset: frames < 0 come from `history` (its last frame is −1),
// frames ≥ `frames` and bins outside [0, freq) read zero. K = taps_t·taps_f·cin, summed in
// (u, v, input channel) order.
//
// Calls with few output pixels and few blocks split K over blocks (split-K): each split's
// partial sums go to `partial` (conv_gemm_scratch_size floats), and a second kernel adds them
// in split order (deterministic) to the bias or the open overlap and stores the outputs.
inline constexpr int kMaxConvPhases = 16;

struct ConvPhase {
  int a0 = 0, b0 = 0;
  int taps_t = 0, taps_f = 0;
  int row_offset = 0, col_offset = 0;
  int out_row0 = 0, out_col0 = 0;
  int rows = 0, cols = 0;  // output pixels of this phase: rows × cols
};

struct ConvGemm {
  const float* x = nullptr;        // [frames, freq, cin]
  const float* history = nullptr;  // [history_rows, freq, cin]
  int history_rows = 0;
  int frames = 0, freq = 0, cin = 0;
  int row_stride = 1, col_stride = 1;
  int tap_step_t = 1, tap_step_f = 1;
  int kf = 1, cout = 0;  // weight [*, kf, cin, cout]
  DeviceWeightView weight, bias;
  int out_row_step = 1, out_col_step = 1;
  int out_cols = 0;  // columns of an output frame
  // Plain convolution (open == nullptr): y[n] = bias + taps for every output frame.
  // Overlap-add (the transposed convolution): acc = open[n] for n < open_rows (else 0), then
  // the taps; frames n < emitted_rows give y[n] = bias + acc, the others tail[n − emitted_rows]
  // = acc (no bias: still open).
  const float* open = nullptr;
  int open_rows = 0;
  float* y = nullptr;
  int emitted_rows = 0;
  float* tail = nullptr;
  float* partial = nullptr;  // scratch for split K
  int phases = 0;
  ConvPhase phase[kMaxConvPhases];
  // Set by conv_gemm from the geometry (kernels/conv2d/conv2d.cu: geometry()).
  int splits = 1, split_k = 0, max_pixels = 0;
};

std::size_t conv_gemm_scratch_size(const ConvGemm& gemm);  // floats of `partial`
void conv_gemm(cudaStream_t stream, const ConvGemm& gemm);

// history [rows, row_floats] := the last `rows` frames of (history, x), x [frames, row_floats].
// One thread per column walks the rows upwards, reading each before anything overwrites it.
void shift_history(cudaStream_t stream, int rows, std::size_t row_floats, int frames, const float* x,
                   float* history);

// std::invalid_argument unless the weight holds `expected` values and the bias none or cout.
void check_conv_weights(const char* op, DeviceWeightView weight, std::size_t expected, DeviceWeightView bias,
                        int cout);

}  // namespace detail

}  // namespace continuo::kernels::cuda
