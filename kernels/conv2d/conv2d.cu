#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/conv2d/conv2d_cuda.hpp"
#include "kernels/cuda/device.cuh"

namespace continuo::kernels::cuda {
namespace {

using detail::ConvGemm;
using detail::ConvPhase;

// The implicit GEMM (detail::conv_gemm): a block computes a tile of BM output pixels × 64
// output channels of one phase, 256 threads in a 16 × 16 grid, each TM pixels × 4 channels in
// registers. K advances in steps of 16: the block stages a 16 × BM slice of the gathered input
// and a 16 × 64 slice of the weights in shared memory while the next step's values are loaded
// into registers, then every thread does 16 · TM · 4 FMAs. Every output is one FMA chain in
// ascending k, whatever the tile or the grid: deterministic, and the CPU's order.
constexpr int kThreads = 256;
constexpr int kTileK = 16;
constexpr int kTileN = 64;
constexpr int kThreadN = 4;  // output channels per thread
constexpr int kThreadsN = kTileN / kThreadN;
static_assert(kThreadsN * kTileK == kThreads, "one 4-channel weight slice per thread per step");

// Position (u, v, c) of k = (u·taps_f + v)·cin + c, advanced in steps without dividing.
struct TapCursor {
  int u = 0, v = 0, c = 0;

  __device__ __forceinline__ void start(int k, int cin, int taps_f) {
    const int tap = k / cin;
    c = k - tap * cin;
    u = tap / taps_f;
    v = tap - u * taps_f;
  }
  __device__ __forceinline__ void advance(int step, int cin, int taps_f) {
    c += step;
    while (c >= cin) {
      c -= cin;
      if (++v == taps_f) {
        v = 0;
        ++u;
      }
    }
  }
};

// Where one gathered input pixel's row and column start (before the tap offsets).
struct PixelBase {
  int row = 0, col = 0;
  bool valid = false;
};

__device__ __forceinline__ float gather(const ConvGemm& g, const PixelBase& p, const TapCursor& t) {
  const int row = p.row + t.u;
  const int col = p.col + t.v;
  if (!p.valid || col < 0 || col >= g.freq || row < -g.history_rows || row >= g.frames) return 0.0f;
  const std::size_t pixel = static_cast<std::size_t>(row < 0 ? row + g.history_rows : row) * g.freq + col;
  return (row < 0 ? g.history : g.x)[pixel * g.cin + t.c];
}

// An output's sum starts from the bias (plain) or the open overlap (overlap-add)...
__device__ __forceinline__ float initial(const ConvGemm& g, const device::Weights& bias, int row, std::size_t col,
                                        int n) {
  if (g.open == nullptr) return bias.present() ? bias.at(n) : 0.0f;
  return row < g.open_rows ? g.open[(static_cast<std::size_t>(row) * g.out_cols + col) * g.cout + n] : 0.0f;
}

// ... and ends in y (plus the bias after the taps, for overlap-add) or, still open, in tail.
__device__ __forceinline__ void store(const ConvGemm& g, const device::Weights& bias, int row, std::size_t col,
                                      int n, float acc) {
  const bool emitted = g.open == nullptr || row < g.emitted_rows;
  float* out = emitted ? g.y : g.tail;
  const int out_row = emitted ? row : row - g.emitted_rows;
  const bool add_bias = g.open != nullptr && emitted && bias.present();
  out[(static_cast<std::size_t>(out_row) * g.out_cols + col) * g.cout + n] = add_bias ? bias.at(n) + acc : acc;
}

__device__ __forceinline__ device::Weights bias_of(const ConvGemm& g) {
  return {g.bias.count ? g.bias.data : nullptr, g.bias.dtype == DType::bf16};
}

// Output pixel p of a phase: its output frame and column.
__device__ __forceinline__ void locate(const ConvGemm& g, const ConvPhase& ph, int p, int& row, std::size_t& col) {
  const int m = p / ph.cols;
  const int mc = p - m * ph.cols;
  row = ph.out_row0 + g.out_row_step * m;
  col = static_cast<std::size_t>(ph.out_col0 + g.out_col_step * mc);
}

// Partial sums of split s, phase z, pixel p: [splits, phases, max_pixels, cout].
__device__ __forceinline__ std::size_t partial_index(const ConvGemm& g, int s, int z, int p, int n) {
  return ((static_cast<std::size_t>(s) * g.phases + z) * g.max_pixels + p) * g.cout + n;
}

template <typename W, int BM, int TM>
__global__ void __launch_bounds__(kThreads) conv_gemm_kernel(const __grid_constant__ ConvGemm g) {
  constexpr int kThreadsM = BM / TM;
  static_assert(kThreadsM * kThreadsN == kThreads, "a 16 × 16 thread grid");
  constexpr int kLoadsA = BM * kTileK / kThreads;  // gathered inputs per thread per step
  __shared__ __align__(16) float a_tile[kTileK][BM + 4];  // + 4: fewer bank conflicts on store
  __shared__ __align__(16) float b_tile[kTileK][kTileN];

  const int z = static_cast<int>(blockIdx.z) % g.phases;
  const int split = static_cast<int>(blockIdx.z) / g.phases;
  const ConvPhase& ph = g.phase[z];
  const int pixels = ph.rows * ph.cols;
  const int p0 = static_cast<int>(blockIdx.x) * BM;
  if (p0 >= pixels) return;  // uniform: this phase has fewer tiles than the grid
  const int n0 = static_cast<int>(blockIdx.y) * kTileN;
  const int tid = static_cast<int>(threadIdx.x);
  // This block's k range: all of K, or split `split` of g.split_k values (a multiple of 16).
  const int k_all = ph.taps_t * ph.taps_f * g.cin;
  const int k_begin = g.splits > 1 ? min(k_all, split * g.split_k) : 0;
  const int k_total = g.splits > 1 ? min(k_all, k_begin + g.split_k) : k_all;
  const W* weight = static_cast<const W*>(g.weight.data);

  // Staging: input k = tid % 16 of pixels tid / 16 + 16·e; weight row tid / 16, channels
  // (tid % 16)·4 … + 3 (consecutive threads: consecutive channels, coalesced).
  const int a_k = tid % kTileK;
  const int b_k = tid / kThreadsN;
  const int b_n = n0 + (tid % kThreadsN) * kThreadN;
  PixelBase bases[kLoadsA];
#pragma unroll
  for (int e = 0; e < kLoadsA; ++e) {
    const int p = p0 + tid / kTileK + (kThreads / kTileK) * e;
    const int m = p / ph.cols;
    const int mc = p - m * ph.cols;
    bases[e] = {g.row_stride * m + ph.row_offset, g.col_stride * mc + ph.col_offset, p < pixels};
  }
  TapCursor a_tap, b_tap;
  float a_next[kLoadsA];
  float b_next[kThreadN];
  auto load = [&](int k0) {
#pragma unroll
    for (int e = 0; e < kLoadsA; ++e) a_next[e] = k0 + a_k < k_total ? gather(g, bases[e], a_tap) : 0.0f;
    const bool row_ok = k0 + b_k < k_total;
    const std::size_t row = static_cast<std::size_t>(
        ((ph.a0 + g.tap_step_t * b_tap.u) * g.kf + ph.b0 + g.tap_step_f * b_tap.v) * g.cin + b_tap.c);
#pragma unroll
    for (int j = 0; j < kThreadN; ++j) {
      b_next[j] = row_ok && b_n + j < g.cout ? device::widen(__ldg(weight + row * g.cout + b_n + j)) : 0.0f;
    }
  };
  if (k_begin < k_total) {
    a_tap.start(k_begin + a_k, g.cin, ph.taps_f);
    b_tap.start(k_begin + b_k, g.cin, ph.taps_f);
    load(k_begin);
  }

  // The sums start from initial() (a split starts from 0: the reduction adds initial()).
  const int ty = tid / kThreadsN;
  const int tx = tid % kThreadsN;
  const device::Weights bias = bias_of(g);
  float acc[TM][kThreadN];
  std::size_t out_pixel[TM];
  int out_row[TM];
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int p = p0 + ty * TM + i;
    locate(g, ph, p, out_row[i], out_pixel[i]);
    if (p >= pixels) out_row[i] = -1;
#pragma unroll
    for (int j = 0; j < kThreadN; ++j) {
      const int n = n0 + tx * kThreadN + j;
      const bool live = out_row[i] >= 0 && n < g.cout && g.splits == 1;
      acc[i][j] = live ? initial(g, bias, out_row[i], out_pixel[i], n) : 0.0f;
    }
  }

  for (int k0 = k_begin; k0 < k_total; k0 += kTileK) {
#pragma unroll
    for (int e = 0; e < kLoadsA; ++e) a_tile[a_k][tid / kTileK + (kThreads / kTileK) * e] = a_next[e];
#pragma unroll
    for (int j = 0; j < kThreadN; ++j) b_tile[b_k][(tid % kThreadsN) * kThreadN + j] = b_next[j];
    __syncthreads();
    if (k0 + kTileK < k_total) {
      a_tap.advance(kTileK, g.cin, ph.taps_f);
      b_tap.advance(kTileK, g.cin, ph.taps_f);
      load(k0 + kTileK);
    }
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[TM];
      float b[kThreadN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = a_tile[kk][ty * TM + i];
#pragma unroll
      for (int j = 0; j < kThreadN; ++j) b[j] = b_tile[kk][tx * kThreadN + j];
#pragma unroll
      for (int i = 0; i < TM; ++i) {
#pragma unroll
        for (int j = 0; j < kThreadN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < TM; ++i) {
    if (out_row[i] < 0) continue;
#pragma unroll
    for (int j = 0; j < kThreadN; ++j) {
      const int n = n0 + tx * kThreadN + j;
      if (n >= g.cout) continue;
      if (g.splits > 1) {
        g.partial[partial_index(g, split, z, p0 + ty * TM + i, n)] = acc[i][j];
      } else {
        store(g, bias, out_row[i], out_pixel[i], n, acc[i][j]);
      }
    }
  }
}

// Split-K's second pass: each output = initial() + the splits' partial sums in split order
// (deterministic), then store(). One thread per (phase, pixel, channel).
__global__ void __launch_bounds__(device::kElementwiseThreads)
    reduce_splits_kernel(const __grid_constant__ ConvGemm g) {
  const std::size_t per_phase = static_cast<std::size_t>(g.max_pixels) * g.cout;
  const device::Weights bias = bias_of(g);
  device::for_each_index(per_phase * g.phases, [&](std::size_t i) {
    const int z = static_cast<int>(i / per_phase);
    const int p = static_cast<int>(i % per_phase / g.cout);
    const int n = static_cast<int>(i % g.cout);
    const ConvPhase& ph = g.phase[z];
    if (p >= ph.rows * ph.cols) return;
    int row = 0;
    std::size_t col = 0;
    locate(g, ph, p, row, col);
    float acc = initial(g, bias, row, col, n);
    for (int s = 0; s < g.splits; ++s) acc += g.partial[partial_index(g, s, z, p, n)];
    store(g, bias, row, col, n, acc);
  });
}

// Phases with at most kSmallPixels output pixels use 16-pixel tiles (more blocks for the
// codec's coarse layers: 1 to 10 pixels), the others 64-pixel tiles.
constexpr int kSmallPixels = 32;
// Calls that give fewer blocks than kTargetBlocks (≈ 4 per H200 SM) split K over blocks, each
// split at least kMinSplitSteps steps of 16: a 3×3 1 024 → 1 024 conv over 10 pixels is 16
// column blocks, 19 MB of bf16 weights; 32 splits make it 512 blocks streaming 36 KB each
// instead of 16 streaming 1.2 MB. Large-pixel calls too: mrt2_small's decoder has 64-pixel-tile
// convs of 4 to 30 blocks, which took 0.1 to 0.2 ms each unsplit on an H200 (ncu, 2026-11-23).
constexpr int kTargetBlocks = 512;
constexpr int kMinSplitSteps = 4;

struct Geometry {
  int most = 0;       // pixels of the largest phase
  int k_most = 0;     // K of the largest phase
  bool small = false;
  int tile = 64;
  int splits = 1;
  int split_k = 0;
};

Geometry geometry(const ConvGemm& g) {
  Geometry geo;
  for (int i = 0; i < g.phases; ++i) {
    geo.most = std::max(geo.most, g.phase[i].rows * g.phase[i].cols);
    geo.k_most = std::max(geo.k_most, g.phase[i].taps_t * g.phase[i].taps_f * g.cin);
  }
  geo.small = geo.most <= kSmallPixels;
  geo.tile = geo.small ? 16 : 64;
  const int blocks = (geo.most + geo.tile - 1) / geo.tile * ((g.cout + kTileN - 1) / kTileN) * g.phases;
  const int most_splits = geo.k_most / (kMinSplitSteps * kTileK);
  if (blocks < kTargetBlocks && most_splits > 1) {
    geo.splits = std::min(most_splits, (kTargetBlocks + blocks - 1) / blocks);
    const int steps = (geo.k_most + kTileK - 1) / kTileK;
    geo.split_k = (steps + geo.splits - 1) / geo.splits * kTileK;
    geo.splits = (geo.k_most + geo.split_k - 1) / geo.split_k;  // no empty split at the end
  }
  return geo;
}

template <typename W>
void launch(cudaStream_t stream, const ConvGemm& g, dim3 grid, bool small) {
  if (small) {
    conv_gemm_kernel<W, 16, 1><<<grid, kThreads, 0, stream>>>(g);
  } else {
    conv_gemm_kernel<W, 64, 4><<<grid, kThreads, 0, stream>>>(g);
  }
}

__global__ void __launch_bounds__(device::kElementwiseThreads)
    shift_history_kernel(int rows, std::size_t row_floats, int frames, const float* x, float* history) {
  device::for_each_index(row_floats, [&](std::size_t col) {
    for (int r = 0; r < rows; ++r) {
      const int from = r + frames;  // row of (history, x)
      const float value = from < rows ? history[static_cast<std::size_t>(from) * row_floats + col]
                                      : x[static_cast<std::size_t>(from - rows) * row_floats + col];
      history[static_cast<std::size_t>(r) * row_floats + col] = value;
    }
  });
}

}  // namespace

namespace detail {

void check_conv_weights(const char* op, DeviceWeightView weight, std::size_t expected, DeviceWeightView bias,
                        int cout) {
  if (weight.data == nullptr || weight.count != expected) {
    throw std::invalid_argument(std::string(op) + ": weight holds " + std::to_string(weight.count) +
                                " values, the shape needs " + std::to_string(expected));
  }
  if (bias.count != 0 && (bias.data == nullptr || bias.count != static_cast<std::size_t>(cout))) {
    throw std::invalid_argument(std::string(op) + ": bias holds " + std::to_string(bias.count) +
                                " values, cout is " + std::to_string(cout));
  }
}

std::size_t conv_gemm_scratch_size(const ConvGemm& g) {
  const Geometry geo = geometry(g);
  return geo.splits > 1 ? static_cast<std::size_t>(geo.splits) * g.phases * geo.most * g.cout : 0;
}

void conv_gemm(cudaStream_t stream, const ConvGemm& gemm) {
  if (gemm.phases < 1 || gemm.phases > kMaxConvPhases) throw std::invalid_argument("conv_gemm: bad phase count");
  const Geometry geo = geometry(gemm);
  if (geo.most == 0 || gemm.cout == 0) return;
  ConvGemm g = gemm;
  g.splits = geo.splits;
  g.split_k = geo.split_k;
  g.max_pixels = geo.most;
  if (g.splits > 1 && g.partial == nullptr) throw std::invalid_argument("conv_gemm: split K needs scratch");
  const dim3 grid((geo.most + geo.tile - 1) / geo.tile, (g.cout + kTileN - 1) / kTileN, g.phases * g.splits);
  if (g.weight.dtype == DType::bf16) {
    launch<std::uint16_t>(stream, g, grid, geo.small);
  } else {
    launch<float>(stream, g, grid, geo.small);
  }
  CONTINUO_CUDA_CHECK_LAUNCH();
  if (g.splits > 1) {
    const std::size_t n = static_cast<std::size_t>(g.phases) * geo.most * g.cout;
    reduce_splits_kernel<<<device::elementwise_blocks(n), device::kElementwiseThreads, 0, stream>>>(g);
    CONTINUO_CUDA_CHECK_LAUNCH();
  }
}

void shift_history(cudaStream_t stream, int rows, std::size_t row_floats, int frames, const float* x,
                   float* history) {
  if (rows == 0 || row_floats == 0) return;
  shift_history_kernel<<<device::elementwise_blocks(row_floats), device::kElementwiseThreads, 0, stream>>>(
      rows, row_floats, frames, x, history);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace detail

namespace {

// y[t, f] = Σ in[t − (kt − 1) + i, f − pad_left + j] · W[i, j]: one phase.
ConvGemm conv2d_gemm(const Conv2dShape& s) {
  ConvGemm g;
  g.history_rows = s.kt - 1;
  g.frames = s.frames;
  g.freq = s.freq;
  g.cin = s.cin;
  g.kf = s.kf;
  g.cout = s.cout;
  g.out_cols = s.freq;
  g.emitted_rows = s.frames;
  g.phases = 1;
  g.phase[0] = {0, 0, s.kt, s.kf, -(s.kt - 1), -s.pad_left, 0, 0, s.frames, s.freq};
  return g;
}

}  // namespace

std::size_t conv2d_cuda_scratch_size(const Conv2dShape& s) { return detail::conv_gemm_scratch_size(conv2d_gemm(s)); }

void conv2d(cudaStream_t stream, const Conv2dShape& s, DeviceWeightView weight, DeviceWeightView bias,
            float* history, const float* x, float* scratch, float* y) {
  if (s.kt < 1 || s.kf < 1 || s.cin < 1 || s.cout < 1 || s.freq < 1 || s.frames < 1 || s.pad_left < 0 ||
      s.pad_left >= s.kf) {
    throw std::invalid_argument("conv2d: bad shape");
  }
  detail::check_conv_weights("conv2d", weight, static_cast<std::size_t>(s.kt) * s.kf * s.cin * s.cout, bias,
                             s.cout);
  if (x == nullptr || y == nullptr || (s.kt > 1 && history == nullptr)) {
    throw std::invalid_argument("conv2d: null tensor");
  }
  ConvGemm g = conv2d_gemm(s);
  g.x = x;
  g.history = history;
  g.weight = weight;
  g.bias = bias;
  g.y = y;
  g.partial = scratch;
  detail::conv_gemm(stream, g);
  detail::shift_history(stream, s.kt - 1, static_cast<std::size_t>(s.freq) * s.cin, s.frames, x, history);
}

}  // namespace continuo::kernels::cuda
