#include "kernels/conv_transpose2d/conv_transpose2d.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/conv2d/conv2d.hpp"

namespace continuo::kernels {
namespace {

std::size_t out_pixels_per_frame(const ConvTranspose2dShape& s) { return static_cast<std::size_t>(s.freq) * s.sf; }

// Frames the whole transposed output of one call spans: the emitted ones and the open tail.
int span_frames(const ConvTranspose2dShape& s) { return (s.frames - 1) * s.st + s.kt; }

template <typename W>
void scatter(const ConvTranspose2dShape& s, const W* weight, const float* x, float* acc) {
  const int out_freq = s.freq * s.sf;
  const std::size_t tap_floats = static_cast<std::size_t>(s.cin) * s.cout;
  for (int tau = 0; tau < s.frames; ++tau) {
    for (int a = 0; a < s.kt; ++a) {
      const int n = s.st * tau + s.kt - 1 - a;
      for (int i = 0; i < s.freq; ++i) {
        const float* in = x + (static_cast<std::size_t>(tau) * s.freq + i) * s.cin;
        for (int b = 0; b < s.kf; ++b) {
          const int o = s.sf * i + s.pad_left - b;
          if (o < 0 || o >= out_freq) continue;
          float* out = acc + (static_cast<std::size_t>(n) * out_freq + o) * s.cout;
          const W* tap = weight + (static_cast<std::size_t>(a) * s.kf + b) * tap_floats;
          for (int c = 0; c < s.cin; ++c) {
            detail::axpy(in[c], tap + static_cast<std::size_t>(c) * s.cout, out, s.cout);
          }
        }
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
  return static_cast<std::size_t>(span_frames(s)) * out_pixels_per_frame(s) * s.cout;
}

void conv_transpose2d(const ConvTranspose2dShape& s, WeightView weight, WeightView bias, float* overlap, const float* x,
                      float* scratch, float* y) {
  const std::size_t frame_floats = out_pixels_per_frame(s) * s.cout;
  const std::size_t open = conv_transpose2d_overlap_size(s);
  const std::size_t emitted = static_cast<std::size_t>(s.frames * s.st) * frame_floats;
  // Earlier calls' open frames start the span; the rest starts at zero.
  std::memcpy(scratch, overlap, open * sizeof(float));
  std::fill(scratch + open, scratch + conv_transpose2d_scratch_size(s), 0.0f);
  detail::with_typed(weight, [&](const auto* w) { scatter(s, w, x, scratch); });
  // Bias after the overlap-add, as the official step: open frames carry none yet.
  detail::fill_bias(bias, static_cast<int>(emitted / s.cout), s.cout, y);
  for (std::size_t k = 0; k < emitted; ++k) y[k] += scratch[k];
  std::memcpy(overlap, scratch + emitted, open * sizeof(float));
}

}  // namespace continuo::kernels
