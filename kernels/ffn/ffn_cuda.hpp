#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/ffn/ffn.hpp"

namespace continuo::kernels::cuda {

// FfnWeights' device twin: W1 [hidden or 2·hidden, model], W2 [model, hidden], fp32 or bf16;
// biases count 0 = none.
struct DeviceFfnWeights {
  DeviceWeightView w1, b1, w2, b2;
};

// The CUDA twin of ffn (kernels/ffn/ffn.hpp), composed as the CPU composes it: dense (W1)
// into scratch, the activation (plain) or the gate (gated) in place, dense (W2) into y.
// x, scratch (ffn_scratch_size(shape) floats) and y in device memory; y may alias x (x is
// read by the first launch only). Three launches on `stream`, no allocation (graph-safe).
void ffn(cudaStream_t stream, const FfnShape& shape, const DeviceFfnWeights& weights,
         const float* x, float* scratch, float* y);

}  // namespace continuo::kernels::cuda
