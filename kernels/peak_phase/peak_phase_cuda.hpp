#pragma once

#include <cstdint>

#include "kernels/cuda/cuda.hpp"
#include "kernels/peak_phase/peak_phase.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of peak_phase (kernels/peak_phase/peak_phase.hpp): x [channels, frames,
// fft_size/2, 2] in place (8-byte aligned: read as float2), psi [channels, fft_size/2] doubles
// and *first_frame, all in device memory (the first frame is staged per call, so a captured
// graph reads the new value at every replay); no scratch (shared memory). One block per audio
// channel runs the frames in order: the magnitudes in fp32 without contraction and the peaks as
// the CPU finds them, the phases in double, equal to the CPU up to the last bits of log, cos
// and sin. std::invalid_argument past kMaxPeakPhaseBins bins (the block's shared memory).
// Enqueued on `stream`, no allocation (graph-safe).
inline constexpr int kMaxPeakPhaseBins = 3072;

void peak_phase(cudaStream_t stream, const PeakPhaseShape& shape, const std::int32_t* first_frame, double* psi,
                float* x);

}  // namespace continuo::kernels::cuda
