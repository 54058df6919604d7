#include "kernels/sample/sample.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace continuo::kernels {
namespace {

std::size_t clamp_k(const SampleShape& shape) {
  return shape.top_k == 0 ? shape.vocab : std::clamp<std::size_t>(shape.top_k, 1, shape.vocab);
}

// Sorts the first n of scratch by (logit descending, index ascending): a strict total order,
// so the result never depends on the sort's implementation.
void sort_prefix(const float* logits, std::uint32_t* order, std::size_t vocab, std::size_t n) {
  std::partial_sort(order, order + n, order + vocab, [logits](std::uint32_t a, std::uint32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
}

std::uint32_t inverse_cdf(const SampleShape& shape, const float* logits,
                          const std::uint32_t* order, std::size_t kept, double u) {
  const float top = logits[order[0]];
  double total = 0.0;
  for (std::size_t i = 0; i < kept; ++i) total += sample_weight(shape, logits[order[i]], top);
  const double target = u * total;
  double cumulative = 0.0;
  for (std::size_t i = 0; i < kept; ++i) {
    cumulative += sample_weight(shape, logits[order[i]], top);
    if (target < cumulative) return order[i];
  }
  return order[kept - 1];  // u·total rounded up to the full sum
}

// Mirrors `logits += gumbel_noise * temperature` in float32: no fused multiply-add.
float perturbed(float logit, float gumbel, float temperature) {
#pragma clang fp contract(off)
  const float noise = gumbel * temperature;
  return logit + noise;
}

std::uint32_t mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(product >> 32);
  return static_cast<std::uint32_t>(product);
}

}  // namespace

// The kept set, sorted, at the front of scratch; returns its size (k, or more with ties at
// the k-th logit, which the official `logits >= kth_logit` keeps too).
std::size_t top_k_set(const SampleShape& shape, const float* logits, std::uint32_t* order) {
  std::iota(order, order + shape.vocab, 0u);
  const std::size_t k = clamp_k(shape);
  sort_prefix(logits, order, shape.vocab, k);
  const float threshold = logits[order[k - 1]];
  const auto kept = static_cast<std::size_t>(
      std::count_if(logits, logits + shape.vocab, [threshold](float l) { return l >= threshold; }));
  if (kept > k) sort_prefix(logits, order, shape.vocab, kept);
  return kept;
}

double sample_weight(const SampleShape& shape, float logit, float top) {
  return std::exp((static_cast<double>(logit) - top) / shape.temperature);
}

std::size_t sample_scratch_size(const SampleShape& shape) { return shape.vocab; }

std::uint32_t sample_uniform(const SampleShape& shape, const float* logits, double u,
                             std::uint32_t* scratch) {
  const std::size_t kept = top_k_set(shape, logits, scratch);
  if (shape.temperature <= 0.0f) return scratch[0];
  return inverse_cdf(shape, logits, scratch, kept, u);
}

std::uint32_t sample_gumbel(const SampleShape& shape, const float* logits, const float* gumbel,
                            std::uint32_t* scratch) {
  const std::size_t kept = top_k_set(shape, logits, scratch);
  if (shape.temperature <= 0.0f) return scratch[0];
  // Index order for the argmax, so ties go to the lowest index as jnp.argmax does.
  std::sort(scratch, scratch + kept);
  std::uint32_t best = scratch[0];
  float best_value = perturbed(logits[best], gumbel[best], shape.temperature);
  for (std::size_t i = 1; i < kept; ++i) {
    const float value = perturbed(logits[scratch[i]], gumbel[scratch[i]], shape.temperature);
    if (value > best_value) {
      best = scratch[i];
      best_value = value;
    }
  }
  return best;
}

std::uint32_t sample_seeded(const SampleShape& shape, const float* logits, const SampleKey& key,
                            std::uint32_t* scratch) {
  return sample_uniform(shape, logits, philox_uniform(key), scratch);
}

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> c,
                                           std::array<std::uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += 0x9E3779B9u;
      k[1] += 0xBB67AE85u;
    }
    std::uint32_t hi0;
    std::uint32_t hi1;
    const std::uint32_t lo0 = mulhilo(0xD2511F53u, c[0], hi0);
    const std::uint32_t lo1 = mulhilo(0xCD9E8D57u, c[2], hi1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

double philox_uniform(const SampleKey& key) {
  const auto out = philox4x32_10(
      {static_cast<std::uint32_t>(key.frame), static_cast<std::uint32_t>(key.frame >> 32),
       key.level, 0u},
      {static_cast<std::uint32_t>(key.seed), static_cast<std::uint32_t>(key.seed >> 32)});
  const std::uint64_t bits = (static_cast<std::uint64_t>(out[0]) << 32 | out[1]) >> 11;
  return static_cast<double>(bits) * 0x1p-53;
}

}  // namespace continuo::kernels
