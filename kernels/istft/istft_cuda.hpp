#pragma once

#include <cstddef>

#include "kernels/cuda/cuda.hpp"
#include "kernels/fft/fft_cuda.hpp"
#include "kernels/istft/istft.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of istft (kernels/istft/istft.hpp): x [channels, frames, fft_size/2, 2],
// window [fft_size] (istft_window's values), overlap [fft_size − hop, channels] (zeros after a
// reset), y [frames·hop, channels], scratch istft_cuda_scratch_size floats, all in device
// memory, none aliased; plan of size fft_size. The overlap stays on the device.
// Three nodes: every (channel, frame)'s windowed irfft into scratch (a direct sum over the
// bins, x_j = (X_0 + 2·Σ_{0<k<n/2} Re(X_k·e^{2πijk/n}))/n, the Hermitian spectrum's real
// transform with a zero Nyquist bin and the DC imaginary part ignored, as the CPU), then the
// overlap-add in the CPU's order (the open samples, then frames in order) into y and the new
// open samples (scratch), then a copy of those into overlap. Agrees with the CPU's FFT path to
// fp32 rounding of an n/2-term sum. Enqueued on `stream`, no allocation (graph-safe).
// std::invalid_argument unless fft_size is even (the CPU's Hermitian fill assumes it) and
// 1 ≤ hop ≤ fft_size.
std::size_t istft_cuda_scratch_size(const IstftShape& shape);  // floats

void istft(cudaStream_t stream, const IstftShape& shape, const DeviceFftPlan& plan, const float* window,
           float* overlap, const float* x, float* scratch, float* y);

}  // namespace continuo::kernels::cuda
