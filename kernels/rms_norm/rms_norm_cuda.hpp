#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/rms_norm/rms_norm.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of rms_norm (kernels/rms_norm/rms_norm.hpp): one block over the vector, fp32,
// scale fp32 or bf16 (count 0: none). x, y in device memory; y may alias x. Enqueued on
// `stream`, no allocation (graph-safe).
void rms_norm(cudaStream_t stream, const RmsNormShape& shape, DeviceWeightView scale,
              const float* x, float* y);

// The twin of rms_norm_residual: residual += rms_norm(y) in one launch, each sum rounded as
// rms_norm then an add (no fused multiply-add). y must not alias residual.
void rms_norm_residual(cudaStream_t stream, const RmsNormShape& shape, DeviceWeightView scale,
                       const float* y, float* residual);

}  // namespace continuo::kernels::cuda
