#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/dense/dense_cuda.hpp"
#include "kernels/ffn/ffn_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

using device::kElementwiseThreads;

// The CPU's activate() expression for expression (kernels/ffn/ffn_cpu.cpp): tanhf, expf and
// IEEE division; the only differences are the device's tanhf/expf (≤ 2 ulp) and FMA
// contraction, far below the fp32 GEMVs' rounding around them.
__device__ __forceinline__ float activated(Activation activation, float x) {
  switch (activation) {
    case Activation::gelu_tanh: {
      constexpr float kSqrt2OverPi = 0.7978845608028654f;  // float(sqrt(2 / pi)), as the CPU's
      return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
    case Activation::relu: return x > 0.0f ? x : 0.0f;
    case Activation::silu: return x / (1.0f + expf(-x));
  }
  return x;
}

// Plain: h[i] = act(h[i]) for i < hidden. Gated: h[i] = h[i] · act(h[hidden + i]); the second
// half is only read, so each index is still read and written by one thread only.
__global__ void __launch_bounds__(kElementwiseThreads)
    activate_kernel(std::size_t hidden, bool gated, Activation activation, float* h) {
  device::for_each_index(hidden, [&](std::size_t i) {
    h[i] = gated ? h[i] * activated(activation, h[hidden + i]) : activated(activation, h[i]);
  });
}

}  // namespace

void ffn(cudaStream_t stream, const FfnShape& shape, const DeviceFfnWeights& weights,
         const float* x, float* scratch, float* y) {
  if (shape.model == 0 || shape.hidden == 0) throw std::invalid_argument("ffn: empty shape");
  if (scratch == nullptr) throw std::invalid_argument("ffn: null scratch");
  dense(stream, {shape.model, ffn_scratch_size(shape)}, weights.w1, weights.b1, x, scratch);
  activate_kernel<<<device::elementwise_blocks(shape.hidden), kElementwiseThreads, 0, stream>>>(
      shape.hidden, shape.gated, shape.activation, scratch);
  CONTINUO_CUDA_CHECK_LAUNCH();
  dense(stream, {shape.hidden, shape.model}, weights.w2, weights.b2, scratch, y);
}

}  // namespace continuo::kernels::cuda
