#pragma once

#include <cstddef>

#include "kernels/cuda/cuda.hpp"
#include "kernels/dense/dense.hpp"

namespace continuo::kernels::cuda {

// The CUDA twins of dense and dense_rows (kernels/dense/dense.hpp): y = W·x (+ b), batch 1,
// W row-major [out, in] in device memory (fp32 or bf16), x and y fp32 in device memory,
// fp32 accumulation. Enqueued on `stream`; no allocation, no synchronisation (graph-safe).
//
// Each weight is read once, with 16-byte loads coalesced across a warp, when in % 8 == 0 and
// W and x are 16-byte aligned; otherwise a scalar path with the same element-to-lane
// assignment and summation order. fp32 and bf16 weights share that order, so bf16 weights give
// bit for bit the fp32 result on the bf16-rounded values, as on the CPU (the order itself
// differs from the CPU's: results agree with it to fp32 rounding, not bit for bit).
// Bias: any dtype, count 0 = none. Throws std::invalid_argument on bad rows, cuda::Error on a
// failed launch.
void dense(cudaStream_t stream, const DenseShape& shape, DeviceWeightView weight,
           DeviceWeightView bias, const float* x, float* y);

// Rows [begin, end) only, into y[0 .. end − begin): one RVQ level's logits.
void dense_rows(cudaStream_t stream, const DenseShape& shape, DeviceWeightView weight,
                DeviceWeightView bias, const float* x, std::size_t begin, std::size_t end, float* y);

}  // namespace continuo::kernels::cuda
