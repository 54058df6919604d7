#include "kernels/conv2d_strided/conv2d_strided.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernels/conv2d/conv2d.hpp"

namespace continuo::kernels {
namespace {

std::size_t padded_freq(const Conv2dStridedShape& s) {
  return static_cast<std::size_t>(s.pad_left + s.freq + s.pad_right);
}

// scratch = (history ++ x) with the frequency padding as explicit zeros:
// [kt − st + frames, pad_left + freq + pad_right, cin].
void gather_input(const Conv2dStridedShape& s, const float* history, const float* x, float* padded) {
  const auto past = static_cast<std::size_t>(s.kt - s.st);
  const std::size_t rows = past + static_cast<std::size_t>(s.frames);
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t frame_floats = static_cast<std::size_t>(s.freq) * s.cin;
  std::fill(padded, padded + rows * row_floats, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = r < past ? history + r * frame_floats : x + (r - past) * frame_floats;
    std::memcpy(padded + r * row_floats + static_cast<std::size_t>(s.pad_left) * s.cin, src,
                frame_floats * sizeof(float));
  }
}

template <typename W>
void correlate(const Conv2dStridedShape& s, const W* weight, const float* padded, float* y) {
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t tap_floats = static_cast<std::size_t>(s.cin) * s.cout;
  const int out_freq = conv2d_strided_out_freq(s);
  for (int t = 0; t < s.frames / s.st; ++t) {
    for (int f = 0; f < out_freq; ++f) {
      float* out = y + (static_cast<std::size_t>(t) * out_freq + f) * s.cout;
      for (int i = 0; i < s.kt; ++i) {
        const float* in_row =
            padded + static_cast<std::size_t>(s.st * t + i) * row_floats + static_cast<std::size_t>(s.sf * f) * s.cin;
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

int conv2d_strided_out_freq(const Conv2dStridedShape& s) {
  return (s.pad_left + s.freq + s.pad_right - s.kf) / s.sf + 1;
}

std::size_t conv2d_strided_history_size(const Conv2dStridedShape& s) {
  return static_cast<std::size_t>(s.kt - s.st) * s.freq * s.cin;
}

std::size_t conv2d_strided_scratch_size(const Conv2dStridedShape& s) {
  return static_cast<std::size_t>(s.kt - s.st + s.frames) * padded_freq(s) * s.cin;
}

void conv2d_strided(const Conv2dStridedShape& s, WeightView weight, WeightView bias, float* history, const float* x,
                    float* scratch, float* y) {
  if (s.kt < s.st || s.frames % s.st != 0) {
    throw std::invalid_argument("conv2d_strided: needs kt >= st and frames a multiple of st");
  }
  gather_input(s, history, x, scratch);
  detail::fill_bias(bias, s.frames / s.st * conv2d_strided_out_freq(s), s.cout, y);
  detail::with_typed(weight, [&](const auto* w) { correlate(s, w, scratch, y); });
  // The new history: the last kt − st rows of (history ++ x), unpadded.
  const std::size_t row_floats = padded_freq(s) * s.cin;
  const std::size_t frame_floats = static_cast<std::size_t>(s.freq) * s.cin;
  for (int r = 0; r < s.kt - s.st; ++r) {
    std::memcpy(
        history + static_cast<std::size_t>(r) * frame_floats,
        scratch + static_cast<std::size_t>(s.frames + r) * row_floats + static_cast<std::size_t>(s.pad_left) * s.cin,
        frame_floats * sizeof(float));
  }
}

}  // namespace continuo::kernels
