#pragma once

// The few per-frame steps of the Depthformer that are not kernels/ ops (the CPU runtime does
// them inline: a residual add, the encoder's two-branch mean, storing the sampled code), as
// device launches for the CUDA runtime (model/cuda/cuda_depthformer.hpp). Each only enqueues
// on `stream` (graph-safe), as the kernels' host API does.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "model/mrt2_types.hpp"

namespace continuo::model::cuda {

// Teacher forcing, in device memory: when `force` is set the frame keeps these codes instead
// of the sampler's (the parity test drives the device with the CPU's codes).
struct LevelForcing {
  std::int32_t codes[kLmLevels] = {};
  std::uint32_t force = 0;
};

// x[i] += y[i], i < n: the residual connection after a block.
void add_in_place(cudaStream_t stream, float* x, const float* y, std::size_t n);

// out[i] = (a[i] + b[i]) · 0.5, the CPU's expression: sl.Parallel's mean of two branches.
void mean_of_two(cudaStream_t stream, const float* a, const float* b, float* out, std::size_t n);

// Level `level`'s code: forcing->codes[level] when forcing->force, else *sampled (the
// sampler's level-relative index). Written to codes[level] and, as the full vocabulary id
// (level_begin + code, what the embeddings read), to ids[level].
void commit_code(cudaStream_t stream, const LevelForcing* forcing, std::uint32_t level,
                 std::int32_t level_begin, const std::uint32_t* sampled, std::uint32_t* codes,
                 std::int32_t* ids);

}  // namespace continuo::model::cuda
