#pragma once

#include <cstddef>

#include "kernels/cuda/cuda.hpp"
#include "kernels/fft/fft.hpp"

namespace continuo::kernels::cuda {

// FftPlan's device twin: the plan's n twiddles e^{−2πik/n} (FftPlan::twiddles, the CPU's
// values) uploaded once at load as [n] (re, im) pairs.
struct DeviceFftPlan {
  int n = 0;
  const float2* twiddles = nullptr;
};

// Transforms up to this size keep one input in shared memory (48 KB of complex values is 6144).
inline constexpr int kMaxCudaFftSize = 4096;

// The CUDA twin of fft (kernels/fft/fft.hpp) for `batch` transforms: out[b, k] =
// Σ_j in[b, j]·e^{∓2πijk/n}, unnormalised, in and out [batch, n] complex in device memory, not
// overlapping. A direct DFT, one thread per output summing j in ascending order against the
// plan's twiddles (index jk mod n): O(n²), which at the codec's sizes (64, 960; 4 frames per
// token frame) is a few million FMAs and deterministic for any n (no radix restriction).
// Agrees with the CPU's mixed-radix FFT to fp32 rounding of an n-term sum (~1e-6 of the
// spectrum's scale). Enqueued on `stream`, no allocation (graph-safe). std::invalid_argument
// when n is outside [1, kMaxCudaFftSize].
void fft(cudaStream_t stream, const DeviceFftPlan& plan, FftDirection direction, std::size_t batch,
         const float2* in, float2* out);

// Shared by the twins of fft, stft and istft: std::invalid_argument naming `op` unless the plan
// is usable and of size n.
void check_fft_plan(const char* op, const DeviceFftPlan& plan, int n);

}  // namespace continuo::kernels::cuda
