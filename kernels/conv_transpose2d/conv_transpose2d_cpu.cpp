#include "kernels/conv_transpose2d/conv_transpose2d.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/conv2d/conv2d.hpp"

namespace continuo::kernels {
namespace {

// The scatter of the header, computed as gathers. Output column o receives x[i]·W[b] for
// o = sf·i + pad_left − b. Writing o = pad_left + ph + sf·m (phase ph in [0, sf)), its taps are
// b = sf·d − ph for the d with 0 ≤ b < kf, and its inputs i = m + d: for one phase, consecutive
// outputs m read consecutive inputs, so each (time tap a, phase) is one conv_gemm over the
// pixels (τ, m) with one segment per d. The input is copied with zero columns either side so
// the edges need no tests (zero products leave the sums exact).
struct Phase {
  int m_first = 0, m_count = 0;  // output columns pad_left + ph + sf·m
  int d_first = 0, d_count = 0;  // taps b = sf·d − ph
};

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

Phase phase(const ConvTranspose2dShape& s, int ph) {
  Phase p;
  p.m_first = -floor_div(s.pad_left + ph, s.sf);  // ceil((−pad_left − ph) / sf)
  p.m_count = std::max(0, floor_div(s.freq * s.sf - 1 - s.pad_left - ph, s.sf) - p.m_first + 1);
  p.d_first = ph > 0 ? 1 : 0;
  p.d_count = std::max(0, floor_div(s.kf - 1 + ph, s.sf) - p.d_first + 1);
  return p;
}

// Zero input columns needed left and right of [0, freq).
struct Margins {
  int left = 0, right = 0;
};

Margins margins(const ConvTranspose2dShape& s) {
  Margins g;
  for (int ph = 0; ph < s.sf; ++ph) {
    const Phase p = phase(s, ph);
    if (p.m_count == 0 || p.d_count == 0) continue;
    g.left = std::max(g.left, -(p.m_first + p.d_first));
    g.right = std::max(g.right, p.m_first + p.m_count - 1 + p.d_first + p.d_count - 1 - (s.freq - 1));
  }
  return g;
}

std::size_t out_pixels_per_frame(const ConvTranspose2dShape& s) { return static_cast<std::size_t>(s.freq) * s.sf; }

// Frames the whole transposed output of one call spans: the emitted ones and the open tail.
int span_frames(const ConvTranspose2dShape& s) { return (s.frames - 1) * s.st + s.kt; }

std::size_t span_floats(const ConvTranspose2dShape& s) {
  return static_cast<std::size_t>(span_frames(s)) * out_pixels_per_frame(s) * s.cout;
}

std::size_t padded_freq(const ConvTranspose2dShape& s) {
  const Margins g = margins(s);
  return static_cast<std::size_t>(g.left + s.freq + g.right);
}

std::size_t padded_floats(const ConvTranspose2dShape& s) {
  return static_cast<std::size_t>(s.frames) * padded_freq(s) * s.cin;
}

void pad_input(const ConvTranspose2dShape& s, const float* x, float* padded) {
  const Margins g = margins(s);
  const std::size_t row = padded_freq(s) * s.cin;
  const std::size_t left = static_cast<std::size_t>(g.left) * s.cin;
  const std::size_t frame = static_cast<std::size_t>(s.freq) * s.cin;
  for (int t = 0; t < s.frames; ++t) {
    float* out = padded + static_cast<std::size_t>(t) * row;
    std::fill(out, out + left, 0.0f);
    std::memcpy(out + left, x + static_cast<std::size_t>(t) * frame, frame * sizeof(float));
    std::fill(out + left + frame, out + row, 0.0f);
  }
}

// acc (the span, open frames of earlier calls first) += this call's contributions. An output
// frame's terms arrive in input-frame order (time taps ascending), so streaming is bit for bit.
void scatter(const ConvTranspose2dShape& s, WeightView weight, const float* padded, float* acc, float* pack) {
  const Margins g = margins(s);
  const std::size_t in_row = padded_freq(s) * s.cin;
  const std::size_t out_row = out_pixels_per_frame(s) * s.cout;
  const std::size_t tap_floats = static_cast<std::size_t>(s.cin) * s.cout;
  for (int a = 0; a < s.kt; ++a) {
    for (int ph = 0; ph < s.sf; ++ph) {
      const Phase p = phase(s, ph);
      if (p.m_count == 0 || p.d_count == 0) continue;
      // Pixel (τ, m) reads padded input frame τ from column m + d_first, and writes output
      // frame st·τ + kt − 1 − a, column pad_left + ph + sf·m.
      const detail::PixelGrid grid{s.frames,
                                   p.m_count,
                                   in_row,
                                   static_cast<std::size_t>(s.cin),
                                   static_cast<std::size_t>(s.st) * out_row,
                                   static_cast<std::size_t>(s.sf) * s.cout};
      const float* in = padded + static_cast<std::size_t>(g.left + p.m_first + p.d_first) * s.cin;
      float* out = acc + static_cast<std::size_t>(s.kt - 1 - a) * out_row +
                   static_cast<std::size_t>(s.pad_left + ph + s.sf * p.m_first) * s.cout;
      std::array<detail::GemmSegment, 8> segments;
      for (int first = 0; first < p.d_count; first += static_cast<int>(segments.size())) {
        const int count = std::min(p.d_count - first, static_cast<int>(segments.size()));
        for (int i = 0; i < count; ++i) {
          const int d = p.d_first + first + i;
          segments[static_cast<std::size_t>(i)] = {
              static_cast<std::size_t>(first + i) * s.cin,
              static_cast<std::size_t>(a * s.kf + s.sf * d - ph) * tap_floats, s.cin};
        }
        detail::conv_gemm(grid, in, out, weight, segments.data(), count, s.cout, pack);
      }
    }
  }
}

}  // namespace

int conv_transpose_same_pad(int kernel, int stride) {
  const int pad_amount = kernel + stride - 2;
  return stride > kernel - 1 ? kernel - 1 : (pad_amount + 1) / 2;
}

std::size_t conv_transpose2d_overlap_size(const ConvTranspose2dShape& s) {
  return static_cast<std::size_t>(s.kt - s.st) * out_pixels_per_frame(s) * s.cout;
}

std::size_t conv_transpose2d_scratch_size(const ConvTranspose2dShape& s) {
  const std::size_t max_k = static_cast<std::size_t>(s.kf) * s.cin;  // at most kf segments of cin
  return span_floats(s) + padded_floats(s) + detail::conv_gemm_pack_size(max_k, s.cout);
}

void conv_transpose2d(const ConvTranspose2dShape& s, WeightView weight, WeightView bias, float* overlap, const float* x,
                      float* scratch, float* y) {
  const std::size_t frame_floats = out_pixels_per_frame(s) * s.cout;
  const std::size_t open = conv_transpose2d_overlap_size(s);
  const std::size_t emitted = static_cast<std::size_t>(s.frames * s.st) * frame_floats;
  float* acc = scratch;
  float* padded = acc + span_floats(s);
  float* pack = padded + padded_floats(s);
  // Earlier calls' open frames start the span; the rest starts at zero.
  std::memcpy(acc, overlap, open * sizeof(float));
  std::fill(acc + open, acc + span_floats(s), 0.0f);
  pad_input(s, x, padded);
  scatter(s, weight, padded, acc, pack);
  // Bias after the overlap-add, as the official step: open frames carry none yet.
  detail::fill_bias(bias, static_cast<int>(emitted / s.cout), s.cout, y);
  for (std::size_t k = 0; k < emitted; ++k) y[k] += acc[k];
  std::memcpy(overlap, acc + emitted, open * sizeof(float));
}

}  // namespace continuo::kernels
