#pragma once

#include "kernels/cuda/cuda.hpp"
#include "kernels/softcap/softcap.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of softcap (kernels/softcap/softcap.hpp): y = cap·tanhf(x / cap), elementwise,
// IEEE division and tanhf (no fast math). y may alias x. The sampler can apply the same cap
// itself (sample_cuda.hpp), saving this launch in the depth loop.
void softcap(cudaStream_t stream, const SoftcapShape& shape, const float* x, float* y);

}  // namespace continuo::kernels::cuda
