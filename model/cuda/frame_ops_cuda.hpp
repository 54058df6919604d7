#pragma once

// The few per-frame steps of the Depthformer and the SpectroStream decoder that are not
// kernels/ ops (the CPU runtimes do them inline: a residual add, the encoder's two-branch
// mean, storing the sampled code, the lookahead mask), as device launches for the CUDA
// runtimes (model/cuda/). Each only enqueues on `stream` (graph-safe), as the kernels' host
// API does.
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

// x[i] += y[i], i < n: a residual connection (the decoder's; the Depthformer's blocks add theirs in
// rms_norm_residual).
void add_in_place(cudaStream_t stream, float* x, const float* y, std::size_t n);

// out[i] = (a[i] + b[i]) · 0.5, the CPU's expression: sl.Parallel's mean of two branches.
void mean_of_two(cudaStream_t stream, const float* a, const float* b, float* out, std::size_t n);

// The first *count frames of each of `groups` blocks of x zeroed (block g starts at
// g·group_floats, a frame is frame_floats): the SpectroStream decoder's lookahead mask, whose
// count the host stages per frame.
void zero_leading_frames(cudaStream_t stream, const std::int32_t* count, float* x, int groups,
                         std::size_t group_floats, std::size_t frame_floats);
// Level `level`'s code: forcing->codes[level] when forcing->force, else *sampled (the
// sampler's level-relative index). Written to codes[level] and, as the full vocabulary id
// (level_begin + code, what the embeddings read), to ids[level].
void commit_code(cudaStream_t stream, const LevelForcing* forcing, std::uint32_t level,
                 std::int32_t level_begin, const std::uint32_t* sampled, std::uint32_t* codes,
                 std::int32_t* ids);

}  // namespace continuo::model::cuda
