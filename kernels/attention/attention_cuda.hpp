#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/attention/attention.hpp"
#include "kernels/cuda/cuda.hpp"

namespace continuo::kernels::cuda {

// The CUDA twins of kv_ring_push / kv_ring_clear / attend (kernels/attention/attention.hpp):
// the same ring ([window, heads, dim] K and V, the current position pushed before attend),
// the same sinks (logit from the unscaled query, always in the softmax) and the same logit
// order (sinks, then slots oldest → newest). Enqueued on `stream`; no allocation (graph-safe).
//
// The ring's position lives in device memory: push advances it on the device, attend reads
// it there, so a frame graph captured once pushes into the right slot at every replay.
struct KvRingState {
  std::uint32_t next = 0;    // slot the next push writes
  std::uint32_t filled = 0;  // valid slots, ≤ window
};

// KvRing's device twin: keys, values (kv_ring_floats(window, heads, dim) floats each) and
// state in device memory, caller-owned. A runtime uploads {0, 0} (or calls kv_ring_clear)
// before the first push.
struct DeviceKvRing {
  float* keys = nullptr;
  float* values = nullptr;
  std::size_t window = 0;
  std::size_t heads = 0;
  std::size_t dim = 0;  // ≤ kMaxAttentionDim
  KvRingState* state = nullptr;
};

// One block per head, one thread per (value group, unit): dim is at most the block size.
inline constexpr std::size_t kMaxAttentionDim = 512;

// AttentionSinks' device twin: [count, heads, dim] each, fp32 or bf16.
struct DeviceAttentionSinks {
  DeviceWeightView keys;
  DeviceWeightView values;
  std::size_t count = 0;
};

// Forgets every entry (the depth decoder's ring at every frame): a memset node in a graph.
void kv_ring_clear(cudaStream_t stream, const DeviceKvRing& ring);

// Writes k and v ([heads, dim] each, device) over the oldest slot and advances the state.
void kv_ring_push(cudaStream_t stream, const DeviceKvRing& ring, const float* k, const float* v);

// out[h] = Σ_j softmax_j(logit_j) · v_j over the sinks and the ring's valid slots; q, out
// [heads, dim] and q_scale [dim] (query_scale's output, uploaded at load) in device memory.
// Nothing to attend to gives zeros. Throws std::invalid_argument when dim > kMaxAttentionDim
// or the logits and the query do not fit in 48 KB of shared memory (window ≈ 12 000).
void attend(cudaStream_t stream, const DeviceKvRing& ring, const DeviceAttentionSinks& sinks,
            const float* q, const float* q_scale, float* out);

}  // namespace continuo::kernels::cuda
