#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/attention/attention_cuda.hpp"
#include "kernels/cuda/device.cuh"

namespace continuo::kernels::cuda {
namespace {

using device::kWarp;

constexpr int kThreads = 512;  // attend: one block per head
static_assert(kThreads == kMaxAttentionDim, "a unit of the output per thread at least");
constexpr int kWarps = kThreads / kWarp;
constexpr int kPushThreads = 256;  // push: one block copies one position (heads·dim floats)
// Dynamic shared memory a block may use without cudaFuncSetAttribute, after attend_kernel's
// static arrays (partial, reduce).
constexpr std::size_t kDynamicSharedLimit = 48 * 1024 - (kThreads + kWarps) * sizeof(float);

struct Sinks {
  device::Weights keys;
  device::Weights values;
  std::size_t count;
};

// Offset of head h of row `row` in a [rows, heads, dim] tensor (ring slots, sinks, q, out).
__device__ __forceinline__ std::size_t head_offset(std::size_t row, std::size_t h,
                                                   std::size_t heads, std::size_t dim) {
  return (row * heads + h) * dim;
}

// kv_ring_slot: the slot of the i-th oldest valid entry. With next < window, filled ≤ window
// and i < filled, next + window − filled + i lies in [0, 2·window): one subtraction wraps it.
__device__ __forceinline__ std::size_t ring_slot(const KvRingState& state, std::size_t window,
                                                 std::size_t i) {
  const std::size_t s = state.next + window - state.filled + i;
  return s < window ? s : s - window;
}

// One block per head h, in four phases separated by barriers:
//  1. the head's query, raw and scaled by q_scale (the CPU's scaled_q), into shared memory;
//  2. logit j (sinks first, then slots oldest → newest) by warp j mod kWarps: lanes across
//     dim, fp32 FMA, warp butterfly;
//  3. softmax: block max, e_j = expf(l_j − max) in place, block sum; p_j = e_j / total as the
//     CPU divides;
//  4. out[d] = Σ_j p_j · v_j[d]: the kThreads threads form kThreads / dim groups of dim; group
//     g sums rows j ≡ g (mod groups) in ascending j, then the groups are added in order.
// Every reduction has a fixed order: the result is deterministic, and differs from the CPU's
// sequential sums by fp32 rounding only. q is read in phase 1 and out written in phase 4 only.
__global__ void __launch_bounds__(kThreads)
    attend_kernel(DeviceKvRing ring, Sinks sinks, const float* q, const float* q_scale,
                  float* out) {
  extern __shared__ float shared[];  // query [dim], scaled query [dim], logits [count + window]
  __shared__ float partial[kThreads];
  __shared__ float reduce[kWarps];
  const std::size_t dim = ring.dim;
  const std::size_t h = blockIdx.x;
  const unsigned t = threadIdx.x;
  const unsigned warp = t / kWarp;
  const unsigned lane = t % kWarp;
  float* query = shared;
  float* scaled = shared + dim;
  float* logits = shared + 2 * dim;

  const KvRingState state = *ring.state;  // written by kv_ring_push earlier in the stream
  const std::size_t n = sinks.count + state.filled;
  const float* qh = q + h * dim;
  for (std::size_t d = t; d < dim; d += kThreads) {
    query[d] = qh[d];
    scaled[d] = qh[d] * q_scale[d];
  }
  __syncthreads();

  for (std::size_t j = warp; j < n; j += kWarps) {  // j is uniform per warp: whole-warp shuffles
    float acc = 0.0f;
    if (j < sinks.count) {  // the sink's logit uses the unscaled query
      const std::size_t base = head_offset(j, h, ring.heads, dim);
      for (std::size_t d = lane; d < dim; d += kWarp) acc = fmaf(query[d], sinks.keys.at(base + d), acc);
    } else {
      const std::size_t slot = ring_slot(state, ring.window, j - sinks.count);
      const float* k = ring.keys + head_offset(slot, h, ring.heads, dim);
      for (std::size_t d = lane; d < dim; d += kWarp) acc = fmaf(scaled[d], __ldg(k + d), acc);
    }
    acc = device::warp_sum(acc);
    if (lane == 0) logits[j] = acc;
  }
  __syncthreads();

  float* oh = out + h * dim;
  if (n == 0) {  // empty ring, no sink: zeros (n is uniform: the whole block leaves)
    for (std::size_t d = t; d < dim; d += kThreads) oh[d] = 0.0f;
    return;
  }
  // Thread t owns logits t, t + kThreads, …: it alone rewrites them, and the barriers inside
  // block_max / block_sum order those writes against every other thread's reads.
  float top = -INFINITY;
  for (std::size_t j = t; j < n; j += kThreads) top = fmaxf(top, logits[j]);
  top = device::block_max<kThreads>(top, reduce);
  float sum = 0.0f;
  for (std::size_t j = t; j < n; j += kThreads) {
    const float e = expf(logits[j] - top);
    logits[j] = e;
    sum += e;
  }
  const float total = device::block_sum<kThreads>(sum, reduce);

  const std::size_t groups = kThreads / dim;  // ≥ 1: dim ≤ kThreads (checked by the host)
  const std::size_t group = t / dim;
  const std::size_t d = t % dim;
  if (group < groups) {
    float acc = 0.0f;
    for (std::size_t j = group; j < n; j += groups) {
      float v;
      if (j < sinks.count) {
        v = sinks.values.at(head_offset(j, h, ring.heads, dim) + d);
      } else {
        const std::size_t slot = ring_slot(state, ring.window, j - sinks.count);
        v = __ldg(ring.values + head_offset(slot, h, ring.heads, dim) + d);
      }
      acc = fmaf(logits[j] / total, v, acc);
    }
    partial[t] = acc;  // t == group · dim + d
  }
  __syncthreads();
  if (t < dim) {
    float context = partial[t];
    for (std::size_t g = 1; g < groups; ++g) context += partial[g * dim + t];
    oh[t] = context;
  }
}

// One block: every thread reads the state, the barrier, then thread 0 advances it, so no
// thread can see the advanced state. The copy goes to the slot read.
__global__ void __launch_bounds__(kPushThreads)
    kv_ring_push_kernel(DeviceKvRing ring, const float* k, const float* v) {
  const KvRingState state = *ring.state;
  __syncthreads();
  if (threadIdx.x == 0) {
    const std::uint32_t window = static_cast<std::uint32_t>(ring.window);
    *ring.state = KvRingState{state.next + 1 == window ? 0u : state.next + 1,
                              state.filled < window ? state.filled + 1 : window};
  }
  const std::size_t stride = ring.heads * ring.dim;
  float* keys = ring.keys + state.next * stride;
  float* values = ring.values + state.next * stride;
  for (std::size_t i = threadIdx.x; i < stride; i += kPushThreads) {
    keys[i] = k[i];
    values[i] = v[i];
  }
}

void check_ring(const DeviceKvRing& ring, const char* op) {
  if (ring.keys == nullptr || ring.values == nullptr || ring.state == nullptr) {
    throw std::invalid_argument(std::string(op) + ": null ring storage or state");
  }
  if (ring.window == 0 || ring.heads == 0 || ring.dim == 0 ||
      ring.window > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument(std::string(op) + ": empty ring shape or window too large");
  }
}

void check_sinks(const DeviceAttentionSinks& sinks, std::size_t floats) {
  if (sinks.count != 0 && (sinks.keys.count != floats || sinks.values.count != floats)) {
    throw std::invalid_argument("attend: sinks must be [count, heads, dim] each");
  }
}

}  // namespace

void kv_ring_clear(cudaStream_t stream, const DeviceKvRing& ring) {
  check_ring(ring, "kv_ring_clear");
  CONTINUO_CUDA_CHECK(cudaMemsetAsync(ring.state, 0, sizeof(KvRingState), stream));
}

void kv_ring_push(cudaStream_t stream, const DeviceKvRing& ring, const float* k, const float* v) {
  check_ring(ring, "kv_ring_push");
  if (k == nullptr || v == nullptr) throw std::invalid_argument("kv_ring_push: null k or v");
  kv_ring_push_kernel<<<1, kPushThreads, 0, stream>>>(ring, k, v);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void attend(cudaStream_t stream, const DeviceKvRing& ring, const DeviceAttentionSinks& sinks,
            const float* q, const float* q_scale, float* out) {
  check_ring(ring, "attend");
  check_sinks(sinks, sinks.count * ring.heads * ring.dim);
  if (q == nullptr || q_scale == nullptr || out == nullptr) {
    throw std::invalid_argument("attend: null query, scale or output");
  }
  if (ring.dim > kMaxAttentionDim) {
    throw std::invalid_argument("attend: dim " + std::to_string(ring.dim) + " > " +
                                std::to_string(kMaxAttentionDim));
  }
  const std::size_t shared = (2 * ring.dim + sinks.count + ring.window) * sizeof(float);
  if (shared > kDynamicSharedLimit) {
    throw std::invalid_argument("attend: window too large for shared memory");
  }
  const Sinks s{device::weights(sinks.keys), device::weights(sinks.values), sinks.count};
  attend_kernel<<<static_cast<unsigned>(ring.heads), kThreads, shared, stream>>>(ring, s, q,
                                                                                 q_scale, out);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
