#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/cuda.hpp"
#include "kernels/rvq_encode/rvq_encode.hpp"

namespace continuo::kernels::cuda {

// The CUDA twins of rvq_codebook_norms and rvq_encode (kernels/rvq_encode/rvq_encode.hpp).
// Table [levels, codebook, dim] fp32 or bf16, norms [levels, codebook], residual [dim],
// codes [levels], scratch rvq_encode_scratch_size words: all device memory.
//
// Every score is the CPU's expression in the CPU's order (a sequential dot product of
// products and sums each rounded: no FMA, then norm − 2·dot), the argmin keeps the lowest
// index among equal scores, and the residual update is the CPU's three roundings: codes and
// residual equal the CPU's bit for bit, as long as the CPU build does not contract to FMA
// (x86-64 baseline cannot). Enqueued on `stream`, no allocation (graph-safe).

// norms[r] = |table row r|², summed in order: once per table, at load.
void rvq_codebook_norms(cudaStream_t stream, const RvqShape& shape, DeviceWeightView table, float* norms);

std::size_t rvq_encode_scratch_size(const RvqShape& shape);  // 32-bit words

// One launch per level: the level's blocks score their codewords, and the last block to
// finish (a device counter) picks the code and updates the residual before the next level.
void rvq_encode(cudaStream_t stream, const RvqShape& shape, DeviceWeightView table, const float* norms,
                float* residual, std::int32_t* codes, std::uint32_t* scratch);

}  // namespace continuo::kernels::cuda
