#pragma once

#include <cstddef>

#include "kernels/cuda/cuda.hpp"
#include "kernels/elu/elu.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of elu (kernels/elu/elu.hpp): y = x for x > 0, expm1f(x) otherwise; x, y
// [n] in device memory, y may alias x. The CPU's expm1 is a polynomial within ≈ 2e-7 of the
// exact value, the device's expm1f within 1 ulp: the two agree to a few 1e-7. Enqueued on
// `stream`, no allocation (graph-safe).
void elu(cudaStream_t stream, std::size_t n, const float* x, float* y);

}  // namespace continuo::kernels::cuda
