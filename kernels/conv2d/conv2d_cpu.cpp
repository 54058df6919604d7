#include "kernels/conv2d/conv2d.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace continuo::kernels {
namespace {

// ---- The GEMM-like kernel (detail::conv_gemm) ----------------------------------------------
//
// Written once with GCC/clang vector extensions and compiled twice: for the x86-64 baseline
// (SSE2) and, inside a target("avx2,fma") entry point, for AVX2 + FMA. Every helper is
// always_inline so that it is compiled for the entry point it is inlined into; vectors are
// never passed by value between functions (that would change the ABI across targets).

template <int VL>
using Vec = float __attribute__((vector_size(VL * sizeof(float))));

struct Sse2 {
  static constexpr int kLanes = 4;
  static constexpr int kPixels = 4;  // register tile: kPixels × kVectors·kLanes outputs
  static constexpr int kVectors = 2;
  static constexpr bool kFma = false;
};
struct Avx2 {
  static constexpr int kLanes = 8;
  static constexpr int kPixels = 6;
  static constexpr int kVectors = 2;
  static constexpr bool kFma = true;
};

struct Avx512 {
  static constexpr int kLanes = 16;
  static constexpr int kPixels = 8;
  static constexpr int kVectors = 2;
  static constexpr bool kFma = true;
};

constexpr int kMaxLanes = 16;
constexpr int kDotPixels = 4;

template <int VL>
[[gnu::always_inline]] inline void load(Vec<VL>& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}
template <int VL>
[[gnu::always_inline]] inline void load(Vec<VL>& v, const std::uint16_t* p) {  // bf16 → fp32
  using Half = std::uint16_t __attribute__((vector_size(VL * sizeof(std::uint16_t))));
  using Word = std::uint32_t __attribute__((vector_size(VL * sizeof(std::uint32_t))));
  Half h;
  std::memcpy(&h, p, sizeof h);
  const Word w = __builtin_convertvector(h, Word) << 16;
  std::memcpy(&v, &w, sizeof v);
}

// acc += x · w, fused where the target has FMA. Scalar and vector lanes use the same operation,
// so an output's value does not depend on which path computed it.
template <bool kFma, int VL>
[[gnu::always_inline]] inline void madd(Vec<VL>& acc, const Vec<VL>& x, const Vec<VL>& w) {
  if constexpr (kFma) {
    acc = __builtin_elementwise_fma(x, w, acc);
  } else {
    acc += x * w;
  }
}

// Pointers of the pixels [first, first + kPixels) of the grid, outputs from column j; pixels
// past the end read the last one's input and write to `dummy`.
template <int kPixels>
[[gnu::always_inline]] inline void tile_pointers(const detail::PixelGrid& g, const float* a, float* c, int j,
                                                 int first, int pixels, float* dummy, const float* (&ap)[kPixels],
                                                 float* (&cp)[kPixels]) {
  for (int i = 0; i < kPixels; ++i) {
    const int p = std::min(first + i, pixels - 1);
    const auto row = static_cast<std::size_t>(p / g.cols);
    const auto col = static_cast<std::size_t>(p % g.cols);
    ap[i] = a + row * g.a_row + col * g.a_col;
    cp[i] = first + i < pixels ? c + row * g.c_row + col * g.c_col + j : dummy;
  }
}

// One register tile: outputs [0, NV·VL) of MR pixels (cp already at the column) += the
// segment's products, weights ws already at the column.
template <class Isa, int MR, int NV, int VL, typename W>
[[gnu::always_inline]] inline void tile(const float* const (&ap)[MR], float* const (&cp)[MR], const W* ws,
                                        std::size_t a_offset, int k_count, int n) {
  using V = Vec<VL>;
  V acc[MR][NV];
  for (int p = 0; p < MR; ++p) {
    for (int v = 0; v < NV; ++v) load<VL>(acc[p][v], cp[p] + v * VL);
  }
  const float* as[MR];
  for (int p = 0; p < MR; ++p) as[p] = ap[p] + a_offset;
  for (int k = 0; k < k_count; ++k) {
    V wv[NV];
    for (int v = 0; v < NV; ++v) load<VL>(wv[v], ws + static_cast<std::size_t>(k) * n + v * VL);
    for (int p = 0; p < MR; ++p) {
      const V x = as[p][k] - V{};  // broadcast
      for (int v = 0; v < NV; ++v) madd<Isa::kFma, VL>(acc[p][v], x, wv[v]);
    }
  }
  for (int p = 0; p < MR; ++p) {
    for (int v = 0; v < NV; ++v) std::memcpy(cp[p] + v * VL, &acc[p][v], sizeof(V));
  }
}

// Outputs [j, j + NV·VL) of every pixel += one segment piece, MR pixels at a time; what is
// left goes to smaller tiles (8, 4, 2, 1), or to one more MR tile with spare rows (written to
// `dummy`) when more than the next size is left.
template <int MR>
constexpr int smaller_tile() {
  return MR > 8 ? 8 : MR > 4 ? 4 : MR / 2;
}

template <class Isa, int MR, int NV, int VL, typename W>
[[gnu::always_inline]] inline void pixel_tiles(const detail::PixelGrid& g, const float* a, float* c, const W* ws,
                                               std::size_t a_offset, int k_count, int n, int j, int first,
                                               int pixels) {
  alignas(64) float dummy[NV * VL] = {};
  for (; first + MR <= pixels; first += MR) {
    const float* ap[MR];
    float* cp[MR];
    tile_pointers<MR>(g, a, c, j, first, pixels, dummy, ap, cp);
    tile<Isa, MR, NV, VL>(ap, cp, ws, a_offset, k_count, n);
  }
  if constexpr (MR > 1) {
    constexpr int next = smaller_tile<MR>();
    if (pixels - first > next) {
      const float* ap[MR];
      float* cp[MR];
      tile_pointers<MR>(g, a, c, j, first, pixels, dummy, ap, cp);
      tile<Isa, MR, NV, VL>(ap, cp, ws, a_offset, k_count, n);
    } else if (first < pixels) {
      pixel_tiles<Isa, next, NV, VL>(g, a, c, ws, a_offset, k_count, n, j, first, pixels);
    }
  }
}

// Weights are read in pieces of at most kChunkFloats (a segment split along k), all output
// columns of a piece before the next: a piece stays in L2 while its column panels (k × NR
// floats) stay in L1 across the pixel tiles, and every weight comes from memory once per
// call whatever n (rows of a [k, n] block are n floats apart, too far for a panel to stream).
constexpr std::size_t kChunkFloats = 64 * 1024;
constexpr int kMaxChunkRows = 256;

template <class Isa, typename W>
[[gnu::always_inline]] inline void column_tiles(const detail::PixelGrid& g, const float* a, float* c, const W* w,
                                                const detail::GemmSegment* segments, int count, int n) {
  constexpr int VL = Isa::kLanes;
  constexpr int NR = Isa::kVectors * VL;
  constexpr int MR = Isa::kPixels;
  const int pixels = g.rows * g.cols;
  const int chunk = std::clamp(static_cast<int>(kChunkFloats / static_cast<std::size_t>(n)), 8, kMaxChunkRows);
  for (int s = 0; s < count; ++s) {
    const detail::GemmSegment seg = segments[s];
    for (int k0 = 0; k0 < seg.k; k0 += chunk) {
      const int k_count = std::min(chunk, seg.k - k0);
      const std::size_t a_offset = seg.a_offset + static_cast<std::size_t>(k0);
      const W* piece = w + seg.b_offset + static_cast<std::size_t>(k0) * n;
      int j = 0;
      for (; j + NR <= n; j += NR) {
        pixel_tiles<Isa, MR, Isa::kVectors, VL>(g, a, c, piece + j, a_offset, k_count, n, j, 0, pixels);
      }
      for (; j + VL <= n; j += VL) pixel_tiles<Isa, MR, 1, VL>(g, a, c, piece + j, a_offset, k_count, n, j, 0, pixels);
      for (; j < n; ++j) pixel_tiles<Isa, MR, 1, 1>(g, a, c, piece + j, a_offset, k_count, n, j, 0, pixels);
    }
  }
}

// n narrower than a vector: dot products over k instead, against weights transposed into
// `pack` ([segment][j][k]).
template <class Isa, typename W>
[[gnu::always_inline]] inline void dot_columns(const detail::PixelGrid& g, const float* a, float* c, const W* w,
                                               const detail::GemmSegment* segments, int count, int n, float* pack) {
  constexpr int VL = Isa::kLanes;
  using V = Vec<VL>;
  std::size_t packed = 0;
  for (int s = 0; s < count; ++s) {
    const detail::GemmSegment seg = segments[s];
    for (int j = 0; j < n; ++j) {
      for (int k = 0; k < seg.k; ++k) pack[packed++] = detail::widen(w[seg.b_offset + static_cast<std::size_t>(k) * n + j]);
    }
  }
  const int pixels = g.rows * g.cols;
  float dummy[kMaxLanes] = {};
  for (int first = 0; first < pixels; first += kDotPixels) {
    const float* ap[kDotPixels];
    float* cp[kDotPixels];
    tile_pointers<kDotPixels>(g, a, c, 0, first, pixels, dummy, ap, cp);
    for (int j = 0; j < n; ++j) {
      V acc[kDotPixels] = {};
      float tail[kDotPixels] = {};
      const float* pj = pack;
      for (int s = 0; s < count; ++s) {
        const detail::GemmSegment seg = segments[s];
        const float* ws = pj + static_cast<std::size_t>(j) * seg.k;
        int k = 0;
        for (; k + VL <= seg.k; k += VL) {
          V wv;
          load<VL>(wv, ws + k);
          for (int p = 0; p < kDotPixels; ++p) {
            V x;
            load<VL>(x, ap[p] + seg.a_offset + k);
            madd<Isa::kFma, VL>(acc[p], x, wv);
          }
        }
        for (; k < seg.k; ++k) {
          for (int p = 0; p < kDotPixels; ++p) {
            Vec<1> t = {tail[p]};
            madd<Isa::kFma, 1>(t, Vec<1>{ap[p][seg.a_offset + k]}, Vec<1>{ws[k]});
            tail[p] = t[0];
          }
        }
        pj += static_cast<std::size_t>(n) * seg.k;
      }
      for (int p = 0; p < kDotPixels; ++p) {
        float sum = tail[p];
        for (int l = 0; l < VL; ++l) sum += acc[p][l];
        cp[p][j] += sum;
      }
    }
  }
}

template <class Isa, typename W>
[[gnu::always_inline]] inline void gemm(const detail::PixelGrid& g, const float* a, float* c, const W* w,
                                        const detail::GemmSegment* segments, int count, int n, float* pack) {
  constexpr int VL = Isa::kLanes;
  if (g.rows <= 0 || g.cols <= 0 || n <= 0) return;
  if (n < VL) {
    dot_columns<Isa>(g, a, c, w, segments, count, n, pack);
    return;
  }
  column_tiles<Isa>(g, a, c, w, segments, count, n);
}

using GemmFn = void (*)(const detail::PixelGrid&, const float*, float*, WeightView, const detail::GemmSegment*, int,
                        int, float*);

void gemm_sse2(const detail::PixelGrid& g, const float* a, float* c, WeightView w, const detail::GemmSegment* s,
               int count, int n, float* pack) {
  if (w.dtype == DType::f32) {
    gemm<Sse2>(g, a, c, static_cast<const float*>(w.data), s, count, n, pack);
  } else {
    gemm<Sse2>(g, a, c, static_cast<const std::uint16_t*>(w.data), s, count, n, pack);
  }
}

__attribute__((target("avx2,fma"))) void gemm_avx2(const detail::PixelGrid& g, const float* a, float* c,
                                                    WeightView w, const detail::GemmSegment* s, int count, int n,
                                                    float* pack) {
  if (w.dtype == DType::f32) {
    gemm<Avx2>(g, a, c, static_cast<const float*>(w.data), s, count, n, pack);
  } else {
    gemm<Avx2>(g, a, c, static_cast<const std::uint16_t*>(w.data), s, count, n, pack);
  }
}

__attribute__((target("avx512f,avx2,fma"))) void gemm_avx512(const detail::PixelGrid& g, const float* a, float* c,
                                                               WeightView w, const detail::GemmSegment* s, int count,
                                                               int n, float* pack) {
  if (w.dtype == DType::f32) {
    gemm<Avx512>(g, a, c, static_cast<const float*>(w.data), s, count, n, pack);
  } else {
    gemm<Avx512>(g, a, c, static_cast<const std::uint16_t*>(w.data), s, count, n, pack);
  }
}

GemmFn pick_gemm() {
  const char* forced = std::getenv("CONTINUO_CPU");
  const std::string_view isa = forced != nullptr ? forced : "";
  if (isa == "sse2") return gemm_sse2;
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && isa != "avx2" && __builtin_cpu_supports("avx512f")) return gemm_avx512;
  return avx2 ? gemm_avx2 : gemm_sse2;
}

// ---- conv2d ----------------------------------------------------------------------------------

std::size_t padded_freq(const Conv2dShape& s) { return static_cast<std::size_t>(s.freq + s.kf - 1); }
std::size_t padded_floats(const Conv2dShape& s) {
  return static_cast<std::size_t>(s.kt - 1 + s.frames) * padded_freq(s) * s.cin;
}
std::size_t weight_floats(const Conv2dShape& s) { return static_cast<std::size_t>(s.kt) * s.kf * s.cin * s.cout; }

// scratch = (history ++ x) with the frequency padding as explicit zeros, so the inner loops
// run without bounds tests: [kt − 1 + frames, freq + kf − 1, cin].
void gather_input(const Conv2dShape& s, const float* history, const float* x, float* padded) {
  const std::size_t rows = static_cast<std::size_t>(s.kt - 1 + s.frames);
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t frame_floats = static_cast<std::size_t>(s.freq) * s.cin;
  const std::size_t left = static_cast<std::size_t>(s.pad_left) * s.cin;
  for (std::size_t r = 0; r < rows; ++r) {
    const bool from_history = r < static_cast<std::size_t>(s.kt - 1);
    const float* src =
        from_history ? history + r * frame_floats : x + (r - static_cast<std::size_t>(s.kt - 1)) * frame_floats;
    float* row = padded + r * row_floats;
    std::fill(row, row + left, 0.0f);
    std::memcpy(row + left, src, frame_floats * sizeof(float));
    std::fill(row + left + frame_floats, row + row_floats, 0.0f);
  }
}

}  // namespace

namespace detail {

void fill_bias(WeightView bias, int pixels, int n, float* y) {
  for (int p = 0; p < pixels; ++p) {
    for (int c = 0; c < n; ++c) y[static_cast<std::size_t>(p) * n + c] = bias.count ? bias.at(c) : 0.0f;
  }
}

std::size_t conv_gemm_pack_size(std::size_t total_k, int n) {
  return n < kMaxLanes ? total_k * static_cast<std::size_t>(n) : 0;
}

void conv_gemm(const PixelGrid& grid, const float* a, float* c, WeightView weight, const GemmSegment* segments,
               int count, int n, float* pack) {
  static const GemmFn fn = pick_gemm();
  fn(grid, a, c, weight, segments, count, n, pack);
}

}  // namespace detail

std::size_t conv2d_history_size(const Conv2dShape& s) { return static_cast<std::size_t>(s.kt - 1) * s.freq * s.cin; }

std::size_t conv2d_scratch_size(const Conv2dShape& s) {
  return padded_floats(s) + detail::conv_gemm_pack_size(weight_floats(s) / std::max(s.cout, 1), s.cout);
}

// y[t, f] = bias + Σ_i (padded row t + i from column f, kf·cin floats) · W[i] ([kf·cin, cout]):
// one GEMM segment per time tap, as the frequency taps of a row are contiguous in both.
void conv2d(const Conv2dShape& s, WeightView weight, WeightView bias, float* history, const float* x, float* scratch,
            float* y) {
  gather_input(s, history, x, scratch);
  detail::fill_bias(bias, s.frames * s.freq, s.cout, y);
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const detail::PixelGrid grid{s.frames, s.freq, row_floats, static_cast<std::size_t>(s.cin),
                               static_cast<std::size_t>(s.freq) * s.cout, static_cast<std::size_t>(s.cout)};
  const std::size_t tap_floats = static_cast<std::size_t>(s.kf) * s.cin * s.cout;
  float* pack = scratch + padded_floats(s);
  // Time taps in chunks: each chunk's outputs are stored and reloaded exactly, so chunking does
  // not change the result.
  std::array<detail::GemmSegment, 8> segments;
  for (int first = 0; first < s.kt; first += static_cast<int>(segments.size())) {
    const int count = std::min(s.kt - first, static_cast<int>(segments.size()));
    for (int i = 0; i < count; ++i) {
      segments[static_cast<std::size_t>(i)] = {static_cast<std::size_t>(first + i) * row_floats,
                                               static_cast<std::size_t>(first + i) * tap_floats, s.kf * s.cin};
    }
    detail::conv_gemm(grid, scratch, y, weight, segments.data(), count, s.cout, pack);
  }
  // The new history: the last kt − 1 rows of (history ++ x), unpadded.
  const std::size_t frame_floats = static_cast<std::size_t>(s.freq) * s.cin;
  for (int r = 0; r < s.kt - 1; ++r) {
    std::memcpy(
        history + static_cast<std::size_t>(r) * frame_floats,
        scratch + static_cast<std::size_t>(s.frames + r) * row_floats + static_cast<std::size_t>(s.pad_left) * s.cin,
        frame_floats * sizeof(float));
  }
}

}  // namespace continuo::kernels
