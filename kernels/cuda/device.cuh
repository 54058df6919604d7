#pragma once

// Device-side helpers shared by the kernels' .cu files (never included from plain C++):
// bf16 widening, 16-byte vector loads, warp and block reductions, elementwise grid-stride
// loops, codec tensor indices, weight access.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/cuda.hpp"

namespace continuo::kernels::cuda::device {

inline constexpr unsigned kFullMask = 0xFFFFFFFFu;
inline constexpr int kWarp = 32;

// bf16 is the top half of an fp32: widening is exact (the CPU's WeightView::bf16_to_f32).
__device__ __forceinline__ float widen(float value) { return value; }
__device__ __forceinline__ float widen(std::uint16_t bits) {
  return __uint_as_float(static_cast<std::uint32_t>(bits) << 16);
}

// Eight consecutive weights as fp32 from one 16-byte chunk of bf16 (little-endian: element
// 2j is the low half of word j) or from two 16-byte chunks of fp32. p must be 16-byte
// aligned. Read-only path (ld.global.nc): weights never change during a launch.
__device__ __forceinline__ void load8(const std::uint16_t* p, float (&out)[8]) {
  const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
  const std::uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    out[2 * j] = __uint_as_float(words[j] << 16);
    out[2 * j + 1] = __uint_as_float(words[j] & 0xFFFF0000u);
  }
}
__device__ __forceinline__ void load8(const float* p, float (&out)[8]) {
  const float4 a = __ldg(reinterpret_cast<const float4*>(p));
  const float4 b = __ldg(reinterpret_cast<const float4*>(p) + 1);
  out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
  out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
}

// Reduction operators: commutative, so the xor butterfly below gives every lane the same bits.
struct Plus {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Reduction over the 32 lanes of a full warp (all lanes must call). The xor butterfly combines
// the same pairs in every lane (op(a, b) == op(b, a) exactly), so every lane ends with the
// same bits.
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T value, Op op) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    value = op(value, __shfl_xor_sync(kFullMask, value, offset));
  }
  return value;
}

template <typename T>
__device__ __forceinline__ T warp_sum(T value) {
  return warp_reduce(value, Plus{});
}

// Reduction over a block of kThreads threads (all must call; blockDim.x == kThreads); every
// thread gets the same result. shared: kThreads / 32 values. Deterministic: warp results, then
// the warp results in warp order. Ends with a barrier, so shared and any input may be reused
// at once, and every shared-memory write made before the call is visible after it.
template <int kThreads, typename T, typename Op>
__device__ __forceinline__ T block_reduce(T value, T* shared, Op op) {
  static_assert(kThreads % kWarp == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  constexpr int kWarps = kThreads / kWarp;
  value = warp_reduce(value, op);
  if (threadIdx.x % kWarp == 0) shared[threadIdx.x / kWarp] = value;
  __syncthreads();
  T total = shared[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) total = op(total, shared[w]);
  __syncthreads();
  return total;
}

template <int kThreads, typename T>
__device__ __forceinline__ T block_sum(T value, T* shared) {
  return block_reduce<kThreads>(value, shared, Plus{});
}

template <int kThreads>
__device__ __forceinline__ float block_max(float value, float* shared) {
  return block_reduce<kThreads>(value, shared, Max{});
}

// Elementwise kernels: a grid-stride loop over [0, n) (each index visited by exactly one
// thread, so an output may alias its own input element), kElementwiseThreads per block and at
// most kMaxElementwiseBlocks blocks (≈ 8 per H200 SM; a bigger n loops).
inline constexpr int kElementwiseThreads = 256;
inline constexpr std::size_t kMaxElementwiseBlocks = 1024;

inline unsigned elementwise_blocks(std::size_t n) {
  const std::size_t blocks = (n + kElementwiseThreads - 1) / kElementwiseThreads;
  return static_cast<unsigned>(blocks < kMaxElementwiseBlocks ? blocks : kMaxElementwiseBlocks);
}

template <typename F>
__device__ __forceinline__ void for_each_index(std::size_t n, F f) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    f(i);
  }
}

// Position of flat index i in a row-major [frames, bins, channels] tensor (the codec's
// activation layout, channels innermost).
struct Pixel {
  std::size_t frame;
  std::size_t bin;
  std::size_t channel;
};

__device__ __forceinline__ Pixel unflatten(std::size_t i, std::size_t bins, std::size_t channels) {
  const std::size_t pixel = i / channels;
  return {pixel / bins, pixel % bins, i % channels};
}

__device__ __forceinline__ std::size_t flatten(Pixel p, std::size_t bins, std::size_t channels) {
  return (p.frame * bins + p.bin) * channels + p.channel;
}

// A possibly absent fp32 or bf16 weight vector, read one element at a time (norm scales and
// biases: a few thousand values, a uniform branch per element).
struct Weights {
  const void* data = nullptr;
  bool bf16 = false;

  __device__ __forceinline__ bool present() const { return data != nullptr; }
  __device__ __forceinline__ float at(std::size_t i) const {
    return bf16 ? widen(__ldg(static_cast<const std::uint16_t*>(data) + i))
                : __ldg(static_cast<const float*>(data) + i);
  }
};

// Host side: a DeviceWeightView as the kernels take it (count 0: absent).
inline Weights weights(const DeviceWeightView& view) {
  if (view.count == 0) return {};
  return {view.data, view.dtype == DType::bf16};
}

// The DFTs' twiddle factors e^{−2πi·r/n}, r < n: FftPlan::twiddles (the CPU's values, computed
// in double and rounded once) uploaded as [n] (re, im) pairs. A direct DFT term j·k walks them
// with a running index r = j·k mod n: one addition and one conditional subtraction per term.
struct Twiddles {
  const float2* table = nullptr;
  int n = 0;

  __device__ __forceinline__ float2 at(int r) const { return __ldg(table + r); }
  __device__ __forceinline__ int step(int r, int k) const {  // (r + k) mod n, r, k < n
    r += k;
    return r >= n ? r - n : r;
  }
};

}  // namespace continuo::kernels::cuda::device
