#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/upsample2d/upsample2d.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of upsample2d_add (kernels/upsample2d/upsample2d.hpp): y += x repeated st
// times in time and sf in frequency; x [frames, freq, channels], y [frames·st, freq·sf,
// channels] in device memory, not aliased. One add per output element, as on the CPU: the
// results are the CPU's bit for bit. Enqueued on `stream`, no allocation (graph-safe).
void upsample2d_add(cudaStream_t stream, const Upsample2dShape& shape, const float* x, float* y);

}  // namespace continuo::kernels::cuda
