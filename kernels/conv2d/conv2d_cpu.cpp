#include "kernels/conv2d/conv2d.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace continuo::kernels {
namespace {

// ---- The GEMM-like kernel (detail::conv_gemm) ----------------------------------------------
//
// Written once with GCC/clang vector extensions and compiled three times: for the x86-64
// baseline (SSE2) and, inside target("avx2,fma") and target("avx512f,…") entry points, for
// AVX2 + FMA and AVX-512, the widest the CPU has chosen at run time (pick_kernel), so the
// binary runs on any x86-64 without -march. Every helper is always_inline so that it is
// compiled for the entry point it is inlined into; vectors are never passed by value between
// functions (that would change the ABI across targets).

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
struct Avx512 {  // 12 pixels measured 2× slower: their row pointers spill
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

// Columns [j_begin, j_end) and pixels [p_begin, p_end) of one call: the whole call, or the
// part of it one thread does.
struct Part {
  int j_begin = 0, j_end = 0;
  int p_begin = 0, p_end = 0;
};

template <class Isa, typename W>
[[gnu::always_inline]] inline void column_tiles(const detail::PixelGrid& g, const float* a, float* c, const W* w,
                                                const detail::GemmSegment* segments, int count, int n,
                                                const Part& part) {
  constexpr int VL = Isa::kLanes;
  constexpr int NR = Isa::kVectors * VL;
  constexpr int MR = Isa::kPixels;
  const int chunk = std::clamp(static_cast<int>(kChunkFloats / static_cast<std::size_t>(n)), 8, kMaxChunkRows);
  for (int s = 0; s < count; ++s) {
    const detail::GemmSegment seg = segments[s];
    for (int k0 = 0; k0 < seg.k; k0 += chunk) {
      const int k_count = std::min(chunk, seg.k - k0);
      const std::size_t a_offset = seg.a_offset + static_cast<std::size_t>(k0);
      const W* piece = w + seg.b_offset + static_cast<std::size_t>(k0) * n;
      const int first = part.p_begin;
      const int last = part.p_end;
      int j = part.j_begin;
      for (; j + NR <= part.j_end; j += NR) {
        pixel_tiles<Isa, MR, Isa::kVectors, VL>(g, a, c, piece + j, a_offset, k_count, n, j, first, last);
      }
      for (; j + VL <= part.j_end; j += VL) {
        pixel_tiles<Isa, MR, 1, VL>(g, a, c, piece + j, a_offset, k_count, n, j, first, last);
      }
      for (; j < part.j_end; ++j) pixel_tiles<Isa, MR, 1, 1>(g, a, c, piece + j, a_offset, k_count, n, j, first, last);
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
      for (int k = 0; k < seg.k; ++k) {
        pack[packed++] = detail::widen(w[seg.b_offset + static_cast<std::size_t>(k) * n + j]);
      }
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

struct Call {
  detail::PixelGrid grid;
  const float* a;
  float* c;
  WeightView weight;
  const detail::GemmSegment* segments;
  int count;
  int n;
  float* pack;
};

template <class Isa, typename W>
[[gnu::always_inline]] inline void gemm(const Call& call, const W* w, const Part& part) {
  if (call.n < Isa::kLanes) {
    dot_columns<Isa>(call.grid, call.a, call.c, w, call.segments, call.count, call.n, call.pack);
  } else {
    column_tiles<Isa>(call.grid, call.a, call.c, w, call.segments, call.count, call.n, part);
  }
}

template <class Isa>
[[gnu::always_inline]] inline void gemm_typed(const Call& call, const Part& part) {
  if (call.weight.dtype == DType::f32) {
    gemm<Isa>(call, static_cast<const float*>(call.weight.data), part);
  } else {
    gemm<Isa>(call, static_cast<const std::uint16_t*>(call.weight.data), part);
  }
}

void gemm_sse2(const Call& call, const Part& part) { gemm_typed<Sse2>(call, part); }
__attribute__((target("avx2,fma"))) void gemm_avx2(const Call& call, const Part& part) {
  gemm_typed<Avx2>(call, part);
}
__attribute__((target("avx512f,avx2,fma"))) void gemm_avx512(const Call& call, const Part& part) {
  gemm_typed<Avx512>(call, part);
}

struct Kernel {
  void (*run)(const Call&, const Part&);
  int lanes, columns, pixels;  // vector width, register tile (pixels × columns)
  template <class Isa>
  static Kernel of(void (*run)(const Call&, const Part&)) {
    return {run, Isa::kLanes, Isa::kVectors * Isa::kLanes, Isa::kPixels};
  }
};

Kernel pick_kernel() {
  const char* forced = std::getenv("CONTINUO_CPU");
  const std::string_view isa = forced != nullptr ? forced : "";
  if (isa == "sse2") return Kernel::of<Sse2>(gemm_sse2);
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && isa != "avx2" && __builtin_cpu_supports("avx512f")) return Kernel::of<Avx512>(gemm_avx512);
  return avx2 ? Kernel::of<Avx2>(gemm_avx2) : Kernel::of<Sse2>(gemm_sse2);
}

// ---- A second thread ---------------------------------------------------------------------------
//
// Large calls are cut into parts (column ranges, or pixel ranges when n is narrow) that the
// caller and one persistent helper thread claim from an atomic counter. The caller never
// waits for a helper that has not started: it withdraws the job and does every part itself,
// so a descheduled helper (a busy machine) costs nothing. Parts write disjoint outputs with
// the same arithmetic, so results do not depend on who did what. The helper spins briefly
// after each job (calls come in bursts within a frame), then sleeps on a futex.
// CONTINUO_THREADS=1 turns it off.

constexpr int kMaxParts = 8;
constexpr double kSplitMacs = 1 << 20;  // below this a call runs on the caller alone
constexpr int kSpins = 20000;           // ≈ 50 µs of pause instructions

struct Job {
  const Kernel* kernel = nullptr;
  const Call* call = nullptr;
  std::array<Part, kMaxParts> parts;
  int count = 0;
  std::atomic<int> next{0};
  std::atomic<bool> helper_done{false};

  void work() {
    for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      kernel->run(*call, parts[static_cast<std::size_t>(i)]);
    }
  }
};

void pause() { __builtin_ia32_pause(); }

class Helper {
 public:
  // Runs the job's parts on the caller and the helper; returns when all are done.
  void run(Job& job) {
    Job* expected = nullptr;
    const bool posted = slot_.compare_exchange_strong(expected, &job);  // busy: another caller's job
    if (posted) slot_.notify_one();
    job.work();
    expected = &job;
    if (!posted || slot_.compare_exchange_strong(expected, nullptr)) return;  // the helper never took it
    for (int i = 0; i < kSpins && !job.helper_done.load(std::memory_order_acquire); ++i) pause();
    job.helper_done.wait(false);
  }

  static Helper* instance() {
    static Helper* helper = enabled() ? new Helper : nullptr;  // lives as long as the process
    return helper;
  }

 private:
  Helper() { std::thread([this] { loop(); }).detach(); }

  static bool enabled() {
    const char* threads = std::getenv("CONTINUO_THREADS");
    if (threads != nullptr && std::string_view(threads) == "1") return false;
    return std::thread::hardware_concurrency() > 1;
  }

  [[noreturn]] void loop() {
    for (;;) {
      Job* job = nullptr;
      for (int i = 0; i < kSpins && (job = slot_.load(std::memory_order_acquire)) == nullptr; ++i) pause();
      if (job == nullptr) {
        slot_.wait(nullptr);
        continue;
      }
      if (!slot_.compare_exchange_strong(job, nullptr)) continue;  // withdrawn meanwhile
      job->work();
      job->helper_done.store(true, std::memory_order_release);
      job->helper_done.notify_one();
    }
  }

  std::atomic<Job*> slot_{nullptr};
};

// Parts of about equal work: column ranges of whole register tiles where there are ≥ 4
// tiles across, else pixel ranges of whole tiles.
int split(const Kernel& k, int n, int pixels, std::array<Part, kMaxParts>& parts) {
  const int column_tiles = n / k.columns;
  const bool by_columns = column_tiles >= 4;
  const int units = by_columns ? column_tiles : (pixels + k.pixels - 1) / k.pixels;
  const int count = std::min(units, kMaxParts);
  for (int i = 0; i < count; ++i) {
    const int begin = units * i / count;
    const int end = units * (i + 1) / count;
    Part& p = parts[static_cast<std::size_t>(i)];
    if (by_columns) {
      p = {begin * k.columns, i + 1 == count ? n : end * k.columns, 0, pixels};
    } else {
      p = {0, n, begin * k.pixels, std::min(pixels, end * k.pixels)};
    }
  }
  return count;
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
  static const Kernel kernel = pick_kernel();
  const int pixels = grid.rows * grid.cols;
  if (grid.rows <= 0 || grid.cols <= 0 || n <= 0) return;
  const Call call{grid, a, c, weight, segments, count, n, pack};
  double macs = 0;
  for (int s = 0; s < count; ++s) macs += static_cast<double>(segments[s].k) * n * pixels;
  Helper* helper = n >= kernel.lanes && macs >= kSplitMacs ? Helper::instance() : nullptr;
  if (helper == nullptr) {
    kernel.run(call, {0, n, 0, pixels});
    return;
  }
  Job job;
  job.kernel = &kernel;
  job.call = &call;
  job.count = split(kernel, n, pixels, job.parts);
  helper->run(job);
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
