#include "kernels/attention/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/dense/dense.hpp"

namespace continuo::kernels {
namespace {

float softplus(float x) { return std::log1p(std::exp(x)); }

float sink_logit(const KvRing& ring, const AttentionSinks& sinks, std::size_t s, std::size_t head,
                 const float* q) {
  const std::size_t dim = ring.dim;
  const std::size_t base = (s * ring.heads + head) * dim;
  float sum = 0.0f;
  for (std::size_t d = 0; d < dim; ++d) sum += q[d] * sinks.keys.at(base + d);
  return sum;
}

// Turns logits into probabilities in place; returns false if there were none.
bool softmax(float* logits, std::size_t n) {
  if (n == 0) return false;
  const float top = *std::max_element(logits, logits + n);
  float total = 0.0f;
  for (std::size_t j = 0; j < n; ++j) {
    logits[j] = std::exp(logits[j] - top);
    total += logits[j];
  }
  for (std::size_t j = 0; j < n; ++j) logits[j] /= total;
  return true;
}

void add_scaled(float* out, float p, const float* v, std::size_t dim) {
  for (std::size_t d = 0; d < dim; ++d) out[d] += p * v[d];
}

void add_scaled(float* out, float p, WeightView v, std::size_t base, std::size_t dim) {
  for (std::size_t d = 0; d < dim; ++d) out[d] += p * v.at(base + d);
}

// Logits in temporal order: sinks first, then ring slots oldest → newest (the official
// concatenation order).
void head_logits(const KvRing& ring, const AttentionSinks& sinks, std::size_t h, const float* q,
                 const float* scaled_q, float* logits) {
  const std::size_t stride = ring.heads * ring.dim;
  for (std::size_t s = 0; s < sinks.count; ++s) logits[s] = sink_logit(ring, sinks, s, h, q);
  for (std::size_t i = 0; i < ring.filled; ++i) {
    const float* k = ring.keys + kv_ring_slot(ring, i) * stride + h * ring.dim;
    logits[sinks.count + i] = dot(scaled_q, k, ring.dim);
  }
}

void head_context(const KvRing& ring, const AttentionSinks& sinks, std::size_t h,
                  const float* probs, float* out) {
  const std::size_t stride = ring.heads * ring.dim;
  std::fill(out, out + ring.dim, 0.0f);
  for (std::size_t s = 0; s < sinks.count; ++s) {
    add_scaled(out, probs[s], sinks.values, (s * ring.heads + h) * ring.dim, ring.dim);
  }
  for (std::size_t i = 0; i < ring.filled; ++i) {
    const float* v = ring.values + kv_ring_slot(ring, i) * stride + h * ring.dim;
    add_scaled(out, probs[sinks.count + i], v, ring.dim);
  }
}

}  // namespace

std::size_t kv_ring_floats(std::size_t window, std::size_t heads, std::size_t dim) {
  return window * heads * dim;
}

void kv_ring_clear(KvRing& ring) {
  ring.next = 0;
  ring.filled = 0;
}

void kv_ring_push(KvRing& ring, const float* k, const float* v) {
  const std::size_t stride = ring.heads * ring.dim;
  std::memcpy(ring.keys + ring.next * stride, k, stride * sizeof(float));
  std::memcpy(ring.values + ring.next * stride, v, stride * sizeof(float));
  ring.next = (ring.next + 1) % ring.window;
  ring.filled = std::min(ring.filled + 1, ring.window);
}

std::size_t kv_ring_slot(const KvRing& ring, std::size_t i) {
  return (ring.next + ring.window - ring.filled + i) % ring.window;
}

void query_scale(WeightView per_dim_scale, std::size_t dim, float* scale) {
  const double base = 1.0 / std::sqrt(static_cast<double>(dim));
  for (std::size_t d = 0; d < dim; ++d) {
    scale[d] = per_dim_scale.count == 0
                   ? static_cast<float>(base)
                   : static_cast<float>(1.442695041 * base) * softplus(per_dim_scale.at(d));
  }
}

std::size_t attend_scratch_size(const KvRing& ring, const AttentionSinks& sinks) {
  return ring.dim + sinks.count + ring.window;
}

void attend(const KvRing& ring, const AttentionSinks& sinks, const float* q, const float* q_scale,
            float* scratch, float* out) {
  float* scaled_q = scratch;
  float* logits = scratch + ring.dim;
  for (std::size_t h = 0; h < ring.heads; ++h) {
    const float* qh = q + h * ring.dim;
    for (std::size_t d = 0; d < ring.dim; ++d) scaled_q[d] = qh[d] * q_scale[d];
    head_logits(ring, sinks, h, qh, scaled_q, logits);
    float* oh = out + h * ring.dim;
    if (softmax(logits, sinks.count + ring.filled)) {
      head_context(ring, sinks, h, logits, oh);
    } else {
      std::fill(oh, oh + ring.dim, 0.0f);
    }
  }
}

}  // namespace continuo::kernels
