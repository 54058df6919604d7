#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/layer_norm/layer_norm.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of layer_norm (kernels/layer_norm/layer_norm.hpp): one block over the vector,
// two passes (mean, then squared deviations) in fp32; scale and bias fp32 or bf16 (count 0:
// none). x, y in device memory; y may alias x. Enqueued on `stream`, no allocation.
void layer_norm(cudaStream_t stream, const LayerNormShape& shape, DeviceWeightView scale,
                DeviceWeightView bias, const float* x, float* y);

}  // namespace continuo::kernels::cuda
