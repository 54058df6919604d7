#include <algorithm>
#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/sample/sample_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

using device::kFullMask;
using device::kWarp;

constexpr int kThreads = 1024;  // one thread per logit of a level
static_assert(kThreads == kMaxSampleVocab);
constexpr int kWarps = kThreads / kWarp;
constexpr unsigned long long kPadding = ~0ull;  // sorts after every real key

// Philox-4x32-10, the CPU's philox4x32_10 line for line (kernels/sample/sample_cpu.cpp).
__device__ double philox_uniform(std::uint64_t seed, std::uint64_t frame, std::uint32_t level) {
  std::uint32_t c0 = static_cast<std::uint32_t>(frame);
  std::uint32_t c1 = static_cast<std::uint32_t>(frame >> 32);
  std::uint32_t c2 = level;
  std::uint32_t c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed);
  std::uint32_t k1 = static_cast<std::uint32_t>(seed >> 32);
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const std::uint32_t hi0 = __umulhi(0xD2511F53u, c0);
    const std::uint32_t lo0 = 0xD2511F53u * c0;
    const std::uint32_t hi1 = __umulhi(0xCD9E8D57u, c2);
    const std::uint32_t lo1 = 0xCD9E8D57u * c2;
    const std::uint32_t n0 = hi1 ^ c1 ^ k0;
    const std::uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  // 53 bits of the first two words: (w0 << 32 | w1) >> 11, times 2^-53 (exact).
  const std::uint64_t bits = ((static_cast<std::uint64_t>(c0) << 32) | c1) >> 11;
  return static_cast<double>(bits) * 0x1p-53;
}

// Ascending order of the key = logit descending, then index ascending: the CPU's strict
// order. −0 becomes +0 first, so equal logits tie on the index as they do on the CPU.
__device__ __forceinline__ unsigned long long sort_key(float logit, unsigned index) {
  const std::uint32_t bits = __float_as_uint(logit == 0.0f ? 0.0f : logit);
  const std::uint32_t ascending = (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
  return (static_cast<unsigned long long>(~ascending) << 32) | index;
}

// Bitonic sort of kThreads keys, one per thread, ascending: thread t returns position t.
// Partners closer than a warp swap through shuffles, the others through shared memory.
// Loop bounds are the same in every thread, so every thread meets every barrier.
__device__ unsigned long long bitonic_sort(unsigned long long value, unsigned long long* shared) {
  const unsigned t = threadIdx.x;
  for (unsigned k = 2; k <= kThreads; k <<= 1) {
    for (unsigned j = k >> 1; j > 0; j >>= 1) {
      unsigned long long other;
      if (j >= kWarp) {
        shared[t] = value;
        __syncthreads();
        other = shared[t ^ j];
        __syncthreads();
      } else {
        other = __shfl_xor_sync(kFullMask, value, static_cast<int>(j));
      }
      // Pair (t, t ^ j): in an ascending run the lower position keeps the minimum.
      const bool ascending = (t & k) == 0;
      const bool lower = (t & j) == 0;
      const bool keep_min = lower == ascending;
      value = keep_min ? (other < value ? other : value) : (other < value ? value : other);
    }
  }
  return value;
}

// Inclusive prefix sum over the block in double (every thread calls).
__device__ double block_inclusive_scan(double value, double* warp_totals) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
#pragma unroll
  for (int offset = 1; offset < kWarp; offset *= 2) {
    const double before = __shfl_up_sync(kFullMask, value, offset);
    if (lane >= offset) value += before;
  }
  if (lane == kWarp - 1) warp_totals[warp] = value;
  __syncthreads();
  if (warp == 0) {  // each lane reads, then writes, its own entry
    double total = lane < kWarps ? warp_totals[lane] : 0.0;
#pragma unroll
    for (int offset = 1; offset < kWarp; offset *= 2) {
      const double before = __shfl_up_sync(kFullMask, total, offset);
      if (lane >= offset) total += before;
    }
    if (lane < kWarps) warp_totals[lane] = total;
  }
  __syncthreads();
  return warp > 0 ? value + warp_totals[warp - 1] : value;
}

struct Shared {
  unsigned long long keys[kThreads];
  float values[kThreads];  // the (capped) logits by index
  double warp_totals[kWarps];
  double total;
  unsigned first;
};

// One draw; every thread of the block calls it and gets the token.
__device__ std::uint32_t draw(const float* logits, unsigned vocab, unsigned top_k,
                              float temperature, float cap, double u, Shared& s) {
  const unsigned t = threadIdx.x;
  unsigned long long key = kPadding;
  if (t < vocab) {
    float l = logits[t];
    if (cap > 0.0f) l = cap * tanhf(l / cap);  // softcap's expression
    s.values[t] = l;
    key = sort_key(l, t);
  }
  key = bitonic_sort(key, s.keys);
  s.keys[t] = key;  // position t of the order
  __syncthreads();

  if (temperature <= 0.0f) return static_cast<std::uint32_t>(s.keys[0]);  // argmax
  const unsigned k = (top_k == 0 || top_k >= vocab) ? vocab : top_k;
  const float top = s.values[static_cast<std::uint32_t>(s.keys[0])];
  const float threshold = s.values[static_cast<std::uint32_t>(s.keys[k - 1])];
  const float logit = t < vocab ? s.values[static_cast<std::uint32_t>(key)] : 0.0f;
  // Kept: every logit ≥ the k-th (ties kept); sorted, they are positions [0, kept).
  const auto kept = static_cast<unsigned>(__syncthreads_count(t < vocab && logit >= threshold));

  // The CPU's weights, in double: exp((l − l_max) / T).
  double weight = 0.0;
  if (t < kept) {
    weight = exp((static_cast<double>(logit) - static_cast<double>(top)) /
                 static_cast<double>(temperature));
  }
  const double cumulative = block_inclusive_scan(weight, s.warp_totals);
  if (t == kThreads - 1) s.total = cumulative;  // zeros past `kept` add nothing
  if (t == 0) s.first = kept;
  __syncthreads();
  // The first position whose cumulative weight exceeds u·total. A minimum rather than a count:
  // correct even if rounding made the parallel prefix sums non-monotone.
  const double target = u * s.total;
  if (t < kept && target < cumulative) atomicMin(&s.first, t);
  __syncthreads();
  const unsigned position = s.first < kept ? s.first : kept - 1;  // u·total rounded up: last
  return static_cast<std::uint32_t>(s.keys[position]);
}

__global__ void __launch_bounds__(kThreads)
    sample_uniform_kernel(unsigned vocab, unsigned top_k, float temperature, float cap,
                          const float* logits, const double* u, std::uint32_t* token) {
  __shared__ Shared s;
  const std::uint32_t result = draw(logits, vocab, top_k, temperature, cap, *u, s);
  if (threadIdx.x == 0) *token = result;
}

__global__ void __launch_bounds__(kThreads)
    sample_seeded_kernel(unsigned vocab, const SampleControl* control, std::uint32_t level,
                         const float* logits, std::uint32_t* token) {
  __shared__ Shared s;
  const SampleControl c = *control;
  const double u = philox_uniform(c.seed, c.frame, level);
  const std::uint32_t result = draw(logits, vocab, c.top_k, c.temperature, c.cap, u, s);
  if (threadIdx.x == 0) *token = result;
}

__global__ void __launch_bounds__(device::kElementwiseThreads)
    philox_kernel(const SampleKey* keys, std::size_t n, double* out) {
  device::for_each_index(n, [&](std::size_t i) {
    out[i] = philox_uniform(keys[i].seed, keys[i].frame, keys[i].level);
  });
}

void check_vocab(std::size_t vocab) {
  if (vocab == 0 || vocab > kMaxSampleVocab) {
    throw std::invalid_argument("sample: vocab must be in [1, " + std::to_string(kMaxSampleVocab) +
                                "], got " + std::to_string(vocab));
  }
}

}  // namespace

void sample_seeded(cudaStream_t stream, std::size_t vocab, const SampleControl* control,
                   std::uint32_t level, const float* logits, std::uint32_t* token) {
  check_vocab(vocab);
  sample_seeded_kernel<<<1, kThreads, 0, stream>>>(static_cast<unsigned>(vocab), control, level,
                                                   logits, token);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void sample_uniform(cudaStream_t stream, const SampleShape& shape, float cap, const float* logits,
                    const double* u, std::uint32_t* token) {
  check_vocab(shape.vocab);
  const auto top_k = static_cast<unsigned>(std::min(shape.top_k, shape.vocab));
  sample_uniform_kernel<<<1, kThreads, 0, stream>>>(static_cast<unsigned>(shape.vocab), top_k,
                                                    shape.temperature, cap, logits, u, token);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void philox_uniforms(cudaStream_t stream, const SampleKey* keys, std::size_t n, double* out) {
  if (n == 0) return;
  philox_kernel<<<device::elementwise_blocks(n), device::kElementwiseThreads, 0, stream>>>(keys, n,
                                                                                         out);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
