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

template <typename W, int BM, int TM>
__global__ void __launch_bounds__(kThreads) conv_gemm_kernel(const __grid_constant__ ConvGemm g) {
  constexpr int kThreadsM = BM / TM;
  static_assert(kThreadsM * kThreadsN == kThreads, "a 16 × 16 thread grid");
  constexpr int kLoadsA = BM * kTileK / kThreads;  // gathered inputs per thread per step
  __shared__ __align__(16) float a_tile[kTileK][BM + 4];  // + 4: fewer bank conflicts on store
  __shared__ __align__(16) float b_tile[kTileK][kTileN];

  const ConvPhase& ph = g.phase[blockIdx.z];
  const int pixels = ph.rows * ph.cols;
  const int p0 = static_cast<int>(blockIdx.x) * BM;
  if (p0 >= pixels) return;  // uniform: this phase has fewer tiles than the grid
  const int n0 = static_cast<int>(blockIdx.y) * kTileN;
  const int tid = static_cast<int>(threadIdx.x);
  const int k_total = ph.taps_t * ph.taps_f * g.cin;
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
  if (k_total > 0) {
    a_tap.start(a_k, g.cin, ph.taps_f);
    b_tap.start(b_k, g.cin, ph.taps_f);
    load(0);
  }

  // The accumulators start from the bias (plain) or the open overlap (overlap-add).
  const int ty = tid / kThreadsN;
  const int tx = tid % kThreadsN;
  const device::Weights bias = {g.bias.count ? g.bias.data : nullptr, g.bias.dtype == DType::bf16};
  float acc[TM][kThreadN];
  std::size_t out_pixel[TM];
  int out_row[TM];
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int p = p0 + ty * TM + i;
    const int m = p / ph.cols;
    const int mc = p - m * ph.cols;
    out_row[i] = p < pixels ? ph.out_row0 + g.out_row_step * m : -1;
    out_pixel[i] = static_cast<std::size_t>(ph.out_col0 + g.out_col_step * mc);
#pragma unroll
    for (int j = 0; j < kThreadN; ++j) {
      const int n = n0 + tx * kThreadN + j;
      float init = 0.0f;
      if (out_row[i] >= 0 && n < g.cout) {
        if (g.open == nullptr) {
          init = bias.present() ? bias.at(n) : 0.0f;
        } else if (out_row[i] < g.open_rows) {
          init = g.open[(static_cast<std::size_t>(out_row[i]) * g.out_cols + out_pixel[i]) * g.cout + n];
        }
      }
      acc[i][j] = init;
    }
  }

  for (int k0 = 0; k0 < k_total; k0 += kTileK) {
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
    const bool emitted = g.open == nullptr || out_row[i] < g.emitted_rows;
    float* out = emitted ? g.y : g.tail;
    const int row = emitted ? out_row[i] : out_row[i] - g.emitted_rows;
    const std::size_t base = (static_cast<std::size_t>(row) * g.out_cols + out_pixel[i]) * g.cout;
#pragma unroll
    for (int j = 0; j < kThreadN; ++j) {
      const int n = n0 + tx * kThreadN + j;
      if (n >= g.cout) continue;
      const bool add_bias = g.open != nullptr && emitted && bias.present();
      out[base + n] = add_bias ? bias.at(n) + acc[i][j] : acc[i][j];
    }
  }
}

// Phases with at most kSmallPixels output pixels use 16-pixel tiles (more blocks for the
// codec's coarse layers: 1 to 10 pixels), the others 64-pixel tiles.
constexpr int kSmallPixels = 32;

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

void conv_gemm(cudaStream_t stream, const ConvGemm& g) {
  if (g.phases < 1 || g.phases > kMaxConvPhases) throw std::invalid_argument("conv_gemm: bad phase count");
  int most = 0;
  for (int i = 0; i < g.phases; ++i) most = std::max(most, g.phase[i].rows * g.phase[i].cols);
  if (most == 0 || g.cout == 0) return;
  const bool small = most <= kSmallPixels;
  const int tile = small ? 16 : 64;
  const dim3 grid((most + tile - 1) / tile, (g.cout + kTileN - 1) / kTileN, g.phases);
  if (g.weight.dtype == DType::bf16) {
    launch<std::uint16_t>(stream, g, grid, small);
  } else {
    launch<float>(stream, g, grid, small);
  }
  CONTINUO_CUDA_CHECK_LAUNCH();
}

void shift_history(cudaStream_t stream, int rows, std::size_t row_floats, int frames, const float* x,
                   float* history) {
  if (rows == 0 || row_floats == 0) return;
  shift_history_kernel<<<device::elementwise_blocks(row_floats), device::kElementwiseThreads, 0, stream>>>(
      rows, row_floats, frames, x, history);
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace detail

void conv2d(cudaStream_t stream, const Conv2dShape& s, DeviceWeightView weight, DeviceWeightView bias,
            float* history, const float* x, float* y) {
  if (s.kt < 1 || s.kf < 1 || s.cin < 1 || s.cout < 1 || s.freq < 1 || s.frames < 1 || s.pad_left < 0 ||
      s.pad_left >= s.kf) {
    throw std::invalid_argument("conv2d: bad shape");
  }
  detail::check_conv_weights("conv2d", weight, static_cast<std::size_t>(s.kt) * s.kf * s.cin * s.cout, bias,
                             s.cout);
  if (x == nullptr || y == nullptr || (s.kt > 1 && history == nullptr)) {
    throw std::invalid_argument("conv2d: null tensor");
  }
  ConvGemm g;
  g.x = x;
  g.history = history;
  g.history_rows = s.kt - 1;
  g.frames = s.frames;
  g.freq = s.freq;
  g.cin = s.cin;
  g.kf = s.kf;
  g.cout = s.cout;
  g.weight = weight;
  g.bias = bias;
  g.out_cols = s.freq;
  g.y = y;
  g.emitted_rows = s.frames;
  g.phases = 1;
  // y[t, f] = Σ in[t − (kt − 1) + i, f − pad_left + j] · W[i, j]
  g.phase[0] = {0, 0, s.kt, s.kf, -(s.kt - 1), -s.pad_left, 0, 0, s.frames, s.freq};
  detail::conv_gemm(stream, g);
  detail::shift_history(stream, s.kt - 1, static_cast<std::size_t>(s.freq) * s.cin, s.frames, x, history);
}

}  // namespace continuo::kernels::cuda
