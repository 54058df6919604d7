#include "kernels/conv2d/conv2d.hpp"

#include <algorithm>
#include <cstring>

namespace continuo::kernels {
namespace {

std::size_t padded_freq(const Conv2dShape& s) { return static_cast<std::size_t>(s.freq + s.kf - 1); }

// scratch = (history ++ x) with the frequency padding as explicit zeros, so the inner loops
// run without bounds tests: [kt − 1 + frames, freq + kf − 1, cin].
void gather_input(const Conv2dShape& s, const float* history, const float* x, float* padded) {
  const std::size_t rows = static_cast<std::size_t>(s.kt - 1 + s.frames);
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t frame_floats = static_cast<std::size_t>(s.freq) * s.cin;
  std::fill(padded, padded + rows * row_floats, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    const bool from_history = r < static_cast<std::size_t>(s.kt - 1);
    const float* src =
        from_history ? history + r * frame_floats : x + (r - static_cast<std::size_t>(s.kt - 1)) * frame_floats;
    std::memcpy(padded + r * row_floats + static_cast<std::size_t>(s.pad_left) * s.cin, src,
                frame_floats * sizeof(float));
  }
}

template <typename W>
void correlate(const Conv2dShape& s, const W* weight, const float* padded, float* y) {
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t tap_floats = static_cast<std::size_t>(s.cin) * s.cout;
  for (int t = 0; t < s.frames; ++t) {
    for (int f = 0; f < s.freq; ++f) {
      float* out = y + (static_cast<std::size_t>(t) * s.freq + f) * s.cout;
      for (int i = 0; i < s.kt; ++i) {
        const float* in_row = padded + (t + i) * row_floats + static_cast<std::size_t>(f) * s.cin;
        for (int j = 0; j < s.kf; ++j) {
          const float* in = in_row + static_cast<std::size_t>(j) * s.cin;
          const W* tap = weight + (static_cast<std::size_t>(i) * s.kf + j) * tap_floats;
          for (int c = 0; c < s.cin; ++c) {
            detail::axpy(in[c], tap + static_cast<std::size_t>(c) * s.cout, out, s.cout);
          }
        }
      }
    }
  }
}

}  // namespace

namespace detail {

void fill_bias(WeightView bias, int pixels, int n, float* y) {
  for (int p = 0; p < pixels; ++p) {
    for (int c = 0; c < n; ++c) y[static_cast<std::size_t>(p) * n + c] = bias.count ? bias.at(c) : 0.0f;
  }
}

}  // namespace detail

std::size_t conv2d_history_size(const Conv2dShape& s) { return static_cast<std::size_t>(s.kt - 1) * s.freq * s.cin; }

std::size_t conv2d_scratch_size(const Conv2dShape& s) {
  return static_cast<std::size_t>(s.kt - 1 + s.frames) * padded_freq(s) * s.cin;
}

void conv2d(const Conv2dShape& s, WeightView weight, WeightView bias, float* history, const float* x, float* scratch,
            float* y) {
  gather_input(s, history, x, scratch);
  detail::fill_bias(bias, s.frames * s.freq, s.cout, y);
  detail::with_typed(weight, [&](const auto* w) { correlate(s, w, scratch, y); });
  // The new history: the last kt − 1 rows of (history ++ x), unpadded.
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t frame_floats = static_cast<std::size_t>(s.freq) * s.cin;
  for (int r = 0; r < s.kt - 1; ++r) {
    std::memcpy(
        history + static_cast<std::size_t>(r) * frame_floats,
        scratch + static_cast<std::size_t>(s.frames + r) * row_floats + static_cast<std::size_t>(s.pad_left) * s.cin,
        frame_floats * sizeof(float));
  }
}

}  // namespace continuo::kernels
