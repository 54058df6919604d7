#pragma once

#include "kernels/avg_pool2d/avg_pool2d.hpp"
#include "kernels/cuda/cuda.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of avg_pool2d (kernels/avg_pool2d/avg_pool2d.hpp): non-overlapping st × sf
// windows, x [frames, freq, channels] (frames a multiple of st), y [frames/st, freq/sf,
// channels] in device memory, not aliased. Each output sums its window in the CPU's order
// (time, then frequency) from 0 and divides by st·sf: the CPU's results bit for bit.
// Enqueued on `stream`, no allocation (graph-safe).
void avg_pool2d(cudaStream_t stream, const AvgPool2dShape& shape, const float* x, float* y);

}  // namespace continuo::kernels::cuda
