#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/fft/fft_cuda.hpp"
#include "kernels/stft/stft.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of stft (kernels/stft/stft.hpp): x [(frames − 1)·hop + fft_size, channels]
// interleaved samples, window [fft_size] (hann_window's values), y [channels, frames,
// fft_size/2, 2], all in device memory; plan of size fft_size (DeviceFftPlan). Stateless, as
// on the CPU (the caller keeps the lookahead samples). Bin k of a frame is the direct DFT of
// the windowed frame (fft.cu's method: j ascending against the plan's twiddles), ~1e-6 of the
// spectrum's scale from the CPU's FFT. Enqueued on `stream`, no allocation (graph-safe).
void stft(cudaStream_t stream, const StftShape& shape, const DeviceFftPlan& plan, const float* window,
          const float* x, float* y);

}  // namespace continuo::kernels::cuda
