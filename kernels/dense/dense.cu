#include <cstdint>
#include <stdexcept>

#include "kernels/cuda/device.cuh"
#include "kernels/dense/dense_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

using device::kWarp;

constexpr int kWarps = 8;  // per block
constexpr int kThreads = kWarps * kWarp;
constexpr int kChunk = 8;  // elements per 16-byte bf16 load (two 16-byte loads for fp32)
constexpr int kBatch = 4;  // chunks loaded before the first multiply: loads in flight
// Enough blocks to fill an H200 (132 SMs) twice over before rows are split between warps.
constexpr std::size_t kTargetBlocks = 264;

// One block: kRowsPerBlock rows, each row's dot product split over kWarps / kRowsPerBlock
// warps. Row r's elements come in chunks of 8; chunk c belongs to slot c mod kSlots (slot =
// warp-in-row · 32 + lane) and each slot sums its chunks in ascending order, the 8 elements of
// a chunk in order, with one fp32 FMA accumulator. Then a warp butterfly, then the row's warps
// in order, then the bias. The vector and scalar paths, and fp32 and bf16 weights, all follow
// that order.
template <typename W, int kRowsPerBlock, bool kVector>
__global__ void __launch_bounds__(kThreads)
    gemv(const W* __restrict__ weight, device::Weights bias, const float* __restrict__ x,
         std::size_t in, std::size_t begin, std::size_t end, float* __restrict__ y) {
  static_assert(kWarps % kRowsPerBlock == 0);
  constexpr int kWarpsPerRow = kWarps / kRowsPerBlock;
  constexpr std::size_t kSlots = static_cast<std::size_t>(kWarpsPerRow) * kWarp;
  __shared__ float partial[kWarps];

  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int local_row = warp / kWarpsPerRow;  // a row's warps are consecutive
  const std::size_t slot = static_cast<std::size_t>(warp % kWarpsPerRow) * kWarp + lane;
  const std::size_t row =
      begin + static_cast<std::size_t>(blockIdx.x) * kRowsPerBlock + local_row;

  float acc = 0.0f;
  if (row < end) {  // uniform per warp: the shuffles and the barrier below see whole warps
    const W* w = weight + row * in;
    const std::size_t chunks = (in + kChunk - 1) / kChunk;
    std::size_t c = slot;
    if constexpr (kVector) {  // in % 8 == 0; w and x 16-byte aligned (checked by the host)
      for (; c + (kBatch - 1) * kSlots < chunks; c += kBatch * kSlots) {
        float wv[kBatch][kChunk];
        float xv[kBatch][kChunk];
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          device::load8(w + (c + u * kSlots) * kChunk, wv[u]);
          device::load8(x + (c + u * kSlots) * kChunk, xv[u]);
        }
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
#pragma unroll
          for (int j = 0; j < kChunk; ++j) acc = fmaf(wv[u][j], xv[u][j], acc);
        }
      }
      for (; c < chunks; c += kSlots) {
        float wv[kChunk];
        float xv[kChunk];
        device::load8(w + c * kChunk, wv);
        device::load8(x + c * kChunk, xv);
#pragma unroll
        for (int j = 0; j < kChunk; ++j) acc = fmaf(wv[j], xv[j], acc);
      }
    } else {  // any length, any alignment: element loads, the same chunks and order
      for (; c < chunks; c += kSlots) {
        const std::size_t first = c * kChunk;
#pragma unroll
        for (int j = 0; j < kChunk; ++j) {
          if (first + j < in) acc = fmaf(device::widen(__ldg(w + first + j)), __ldg(x + first + j), acc);
        }
      }
    }
  }
  acc = device::warp_sum(acc);

  if constexpr (kWarpsPerRow == 1) {
    if (lane == 0 && row < end) y[row - begin] = acc + (bias.present() ? bias.at(row) : 0.0f);
  } else {
    if (lane == 0) partial[warp] = acc;
    __syncthreads();
    if (warp % kWarpsPerRow == 0 && lane == 0 && row < end) {
      float sum = partial[warp];
#pragma unroll
      for (int p = 1; p < kWarpsPerRow; ++p) sum += partial[warp + p];
      y[row - begin] = sum + (bias.present() ? bias.at(row) : 0.0f);
    }
  }
}

template <typename W, int kRowsPerBlock>
void launch_rows(cudaStream_t stream, bool vector, const W* weight, device::Weights bias,
                 const float* x, std::size_t in, std::size_t begin, std::size_t end, float* y) {
  const std::size_t rows = end - begin;
  const auto blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  if (vector) {
    gemv<W, kRowsPerBlock, true><<<blocks, kThreads, 0, stream>>>(weight, bias, x, in, begin, end, y);
  } else {
    gemv<W, kRowsPerBlock, false><<<blocks, kThreads, 0, stream>>>(weight, bias, x, in, begin, end, y);
  }
  CONTINUO_CUDA_CHECK_LAUNCH();
}

template <typename W>
void launch(cudaStream_t stream, const W* weight, device::Weights bias, const float* x,
            std::size_t in, std::size_t begin, std::size_t end, float* y) {
  const bool vector = in % kChunk == 0 && aligned16(weight) && aligned16(x);
  // Whole rows per warp while that still gives enough blocks; else split rows over warps.
  const std::size_t rows = end - begin;
  int rows_per_block = kWarps;
  while (rows_per_block > 1 && (rows + rows_per_block - 1) / rows_per_block < kTargetBlocks) {
    rows_per_block /= 2;
  }
  switch (rows_per_block) {
    case 8: launch_rows<W, 8>(stream, vector, weight, bias, x, in, begin, end, y); break;
    case 4: launch_rows<W, 4>(stream, vector, weight, bias, x, in, begin, end, y); break;
    case 2: launch_rows<W, 2>(stream, vector, weight, bias, x, in, begin, end, y); break;
    default: launch_rows<W, 1>(stream, vector, weight, bias, x, in, begin, end, y); break;
  }
}

}  // namespace

void dense_rows(cudaStream_t stream, const DenseShape& shape, DeviceWeightView weight,
                DeviceWeightView bias, const float* x, std::size_t begin, std::size_t end,
                float* y) {
  if (begin > end || end > shape.out) throw std::invalid_argument("dense_rows: rows out of range");
  if (begin == end) return;
  if (shape.in != 0 && (weight.data == nullptr || x == nullptr)) {
    throw std::invalid_argument("dense_rows: null weight or input");
  }
  const device::Weights b = device::weights(bias);
  if (weight.dtype == DType::f32) {
    launch(stream, static_cast<const float*>(weight.data), b, x, shape.in, begin, end, y);
  } else {
    launch(stream, static_cast<const std::uint16_t*>(weight.data), b, x, shape.in, begin, end, y);
  }
}

void dense(cudaStream_t stream, const DenseShape& shape, DeviceWeightView weight,
           DeviceWeightView bias, const float* x, float* y) {
  dense_rows(stream, shape, weight, bias, x, 0, shape.out, y);
}

}  // namespace continuo::kernels::cuda
