#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace continuo::kernels {

// Draws one token from one RVQ level's logits (already soft-capped, already restricted to
// the level's valid range [6 + level·1024, 6 + (level+1)·1024): the returned index is
// relative to the slice, the caller adds its first id).
//
// Official sampler (depthformer.py _sample_categorical_with_temperature): keep every logit
// ≥ the k-th largest (ties at the threshold are all kept), then argmax(logit + T·gumbel).
// T ≤ 0 is argmax (lowest index on ties). top_k 0 keeps everything; top_k ≥ vocab likewise.
//
// Three ways to supply the randomness, all over that same top-k set:
//  - sample_gumbel: one Gumbel draw per logit, exactly the official computation, so the
//    official reference's noise reproduces its tokens bit for bit.
//  - sample_uniform: one uniform u in [0,1) and the inverse CDF of softmax(logit / T) over
//    the kept set, taken in the order logit descending, then index ascending: the token is
//    the first whose cumulative probability exceeds u (sums in double).
//  - sample_seeded: sample_uniform with u from Philox-4x32-10 keyed by seed and counted by
//    (frame, level): a draw depends on those three numbers only, never on call order.
struct SampleShape {
  std::size_t vocab = 0;
  std::size_t top_k = 0;
  float temperature = 1.0f;
};

// Scratch: vocab indices.
std::size_t sample_scratch_size(const SampleShape& shape);

std::uint32_t sample_uniform(const SampleShape& shape, const float* logits, double u,
                             std::uint32_t* scratch);
// The two steps sample_uniform is made of, for checks of other implementations against it: the
// kept set, sorted (logit descending, then index ascending), at the front of `order` (scratch),
// and its size; a kept logit's unnormalised weight exp((logit − top) / T) in double, top the
// first kept logit.
std::size_t top_k_set(const SampleShape& shape, const float* logits, std::uint32_t* order);
double sample_weight(const SampleShape& shape, float logit, float top);
std::uint32_t sample_gumbel(const SampleShape& shape, const float* logits, const float* gumbel,
                            std::uint32_t* scratch);

struct SampleKey {
  std::uint64_t seed = 0;
  std::uint64_t frame = 0;
  std::uint32_t level = 0;
};

std::uint32_t sample_seeded(const SampleShape& shape, const float* logits, const SampleKey& key,
                            std::uint32_t* scratch);

// Philox-4x32-10 (Salmon et al. 2011, Random123); the CUDA twin uses the same function.
std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter,
                                           std::array<std::uint32_t, 2> key);
// u in [0,1) with 53 random bits: key (seed), counter (frame, level, 0).
double philox_uniform(const SampleKey& key);

}  // namespace continuo::kernels
