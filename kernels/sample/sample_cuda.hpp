#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/cuda.hpp"
#include "kernels/sample/sample.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of sampling (kernels/sample/sample.hpp): optional soft-cap, top-k (ties at
// the k-th logit all kept), temperature, and the inverse-CDF draw, in one block on device.
// The CPU path's conventions exactly: order by logit descending then index ascending (−0 and
// +0 equal), weights exp((l − l_max) / T) in double, the token is the first whose cumulative
// weight exceeds u·total; T ≤ 0 gives the argmax (lowest index on ties). Given the same
// logits and u the token matches sample_uniform's except when u·total lies within double
// rounding (~1e-16 relative) of a cumulative boundary: the device sums in a different order.
// The draw for (seed, frame, level) uses the same Philox-4x32-10 stream as sample_seeded.
//
// One RVQ level: vocab ≤ kMaxSampleVocab (MRT2: 1024). The token written is relative to the
// logits slice, as on the CPU.
inline constexpr std::size_t kMaxSampleVocab = 1024;

// Sampler settings in device memory, read by the kernel at run time: a runtime writes them
// (cudaMemcpyAsync) before replaying a captured frame graph, so the graph never changes when
// the seed, the temperature, top-k or the frame number do.
struct SampleControl {
  std::uint64_t seed = 0;
  std::uint64_t frame = 0;
  float temperature = 1.0f;
  std::uint32_t top_k = 0;  // 0 or ≥ vocab: all
  float cap = 0.0f;         // soft-cap applied to the logits first; ≤ 0: none
  std::uint32_t reserved = 0;
};

// u from Philox-4x32-10 of (control->seed; control->frame, level): sample_seeded's draw, with
// the soft-cap fused. `level` is a launch parameter: fixed per node of a frame graph.
// logits, control and token are device pointers.
void sample_seeded(cudaStream_t stream, std::size_t vocab, const SampleControl* control,
                   std::uint32_t level, const float* logits, std::uint32_t* token);

// The same kernel with host-side settings and u read from device memory (*u, in [0, 1)):
// sample_uniform's twin, for parity tests and for callers that bring their own randomness.
void sample_uniform(cudaStream_t stream, const SampleShape& shape, float cap, const float* logits,
                    const double* u, std::uint32_t* token);

// out[i] = philox_uniform(keys[i]) computed on device (keys and out in device memory): checks
// that the device's Philox stream is the CPU's, bit for bit.
void philox_uniforms(cudaStream_t stream, const SampleKey* keys, std::size_t n, double* out);

}  // namespace continuo::kernels::cuda
