#pragma once

#include <cstddef>

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Multi-head dot-product attention of one new query position over a sliding window of past
// keys/values plus learned attention-sink embeddings, no positional encoding (MRT2 is NoPE).
// The same code serves self-attention (ring of this layer's own K/V) and the streaming
// cross-attention (ring of K/V projected from the encoder output of each frame).
//
// Window: the official layers attend to the current position and at most max_past_horizon
// earlier ones (LocalDotProductSelfAttention / StreamingDotProductAttention step: a buffer of
// max_past_horizon past entries concatenated with the current one). Here the ring holds
// window = max_past_horizon + 1 slots and the caller pushes the current K/V *before* attend;
// the slot it overwrites is exactly the one that just left the horizon.
//
// Layout: K and V are [window, heads, dim] (one slot = one frame, heads contiguous).

// A ring over caller-owned storage (host memory here; device memory for the CUDA twin).
struct KvRing {
  float* keys = nullptr;
  float* values = nullptr;
  std::size_t window = 0;  // slots: max_past_horizon + 1
  std::size_t heads = 0;
  std::size_t dim = 0;     // units per head
  std::size_t next = 0;    // slot the next push writes
  std::size_t filled = 0;  // valid slots, ≤ window
};

std::size_t kv_ring_floats(std::size_t window, std::size_t heads, std::size_t dim);
// Forgets every entry (reset, or a new frame for the depth decoder's ring).
void kv_ring_clear(KvRing& ring);
// Writes one position's k and v ([heads, dim] each) over the oldest slot.
void kv_ring_push(KvRing& ring, const float* k, const float* v);
// Slot holding the i-th oldest valid entry, i < filled.
std::size_t kv_ring_slot(const KvRing& ring, std::size_t i);

// Learned sink key/value embeddings, [count, heads, dim] each (the checkpoint's
// sink_key_embeddings / sink_value_embeddings). They always take part in the softmax, and
// their logits use the *unscaled* query: logit = q · k_sink, while ring keys get
// (q ⊙ q_scale) · k (sequence_layers computes sink_key_logits before _scale_query).
// MRT2: 1 sink in the temporal decoder's self- and cross-attention, none in the depth decoder.
struct AttentionSinks {
  WeightView keys;
  WeightView values;
  std::size_t count = 0;
};

// The [dim] query scale: 1/sqrt(dim) · 1.442695041 · softplus(per_dim_scale) when the layer
// learns a per-dimension scale (attention_per_dim_scale=True in every MRT2 transformer),
// 1/sqrt(dim) when per_dim_scale.count is 0. Computed once at load time.
void query_scale(WeightView per_dim_scale, std::size_t dim, float* scale);

std::size_t attend_scratch_size(const KvRing& ring, const AttentionSinks& sinks);

// out[h] = Σ_j softmax_j(logit_j) · v_j over the sinks and the ring's valid slots, for each
// head h; q and out are [heads, dim]. With nothing to attend to (empty ring, no sinks) the
// output is zeros, as zero_fully_masked does.
void attend(const KvRing& ring, const AttentionSinks& sinks, const float* q, const float* q_scale,
            float* scratch, float* out);

}  // namespace continuo::kernels
