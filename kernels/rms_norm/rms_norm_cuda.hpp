#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/rms_norm/rms_norm.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of rms_norm (kernels/rms_norm/rms_norm.hpp): one block over the vector, fp32,
// scale fp32 or bf16 (count 0: none). x, y in device memory; y may alias x. Enqueued on
// `stream`, no allocation (graph-safe).
void rms_norm(cudaStream_t stream, const RmsNormShape& shape, DeviceWeightView scale,
              const float* x, float* y);

}  // namespace continuo::kernels::cuda
