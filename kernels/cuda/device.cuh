#pragma once

// Device-side helpers shared by the kernels' .cu files (never included from plain C++):
// bf16 widening, 16-byte vector loads, warp and block reductions, weight access.
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

// Sum over the 32 lanes of a full warp (all lanes must call). The xor butterfly adds the
// same pairs in every lane (a + b == b + a exactly), so every lane ends with the same bits.
template <typename T>
__device__ __forceinline__ T warp_sum(T value) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    value += __shfl_xor_sync(kFullMask, value, offset);
  }
  return value;
}

// Sum over a block of kThreads threads (all must call; blockDim.x == kThreads); every thread
// gets the same total. shared: kThreads / 32 values. Deterministic: warp sums, then the warp
// totals in warp order. Ends with a barrier, so shared and any input may be reused at once.
template <int kThreads, typename T>
__device__ __forceinline__ T block_sum(T value, T* shared) {
  static_assert(kThreads % kWarp == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  constexpr int kWarps = kThreads / kWarp;
  value = warp_sum(value);
  if (threadIdx.x % kWarp == 0) shared[threadIdx.x / kWarp] = value;
  __syncthreads();
  T total = shared[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) total += shared[w];
  __syncthreads();
  return total;
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

}  // namespace continuo::kernels::cuda::device
