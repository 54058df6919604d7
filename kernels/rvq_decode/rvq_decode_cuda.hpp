#pragma once

#include <cstdint>

#include "kernels/cuda/cuda.hpp"
#include "kernels/rvq_decode/rvq_decode.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of rvq_decode (kernels/rvq_decode/rvq_decode.hpp): out [dim] = Σ_l
// table[l, codes[l]], table [levels, codebook, dim] fp32 or bf16, codes [levels] and out in
// device memory (the codes where the sampler left them: a captured frame decodes whatever was
// drawn). One thread per unit sums the levels in order from 0: the CPU's result bit for bit.
// Codes must be valid, as on the CPU. Enqueued on `stream`, no allocation (graph-safe).
void rvq_decode(cudaStream_t stream, const RvqShape& shape, DeviceWeightView table, const std::int32_t* codes,
                float* out);

}  // namespace continuo::kernels::cuda
