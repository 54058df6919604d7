#pragma once

#include <cstdint>

#include "kernels/cuda/cuda.hpp"
#include "kernels/phase_accumulate/phase_accumulate.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of phase_accumulate (kernels/phase_accumulate/phase_accumulate.hpp): x
// [channels, frames, fft_size/2, 2] in place (8-byte aligned: read as float2), phase
// [channels, fft_size/2] doubles and *first_frame, all in device memory (the first frame is
// staged per call, so a captured graph reads the new value at every replay). One thread per
// (channel, bin) runs the frames in order in double, as the CPU: equal to it up to the last
// bits of atan2/cos/sin. Enqueued on `stream`, no allocation (graph-safe).
void phase_accumulate(cudaStream_t stream, const PhaseAccumulateShape& shape, const std::int32_t* first_frame,
                      double* phase, float* x);

}  // namespace continuo::kernels::cuda
