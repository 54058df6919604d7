#include "kernels/upsample2d/upsample2d.hpp"

#include <cstddef>

namespace continuo::kernels {

void upsample2d_add(const Upsample2dShape& s, const float* x, float* y) {
  const std::size_t out_freq = static_cast<std::size_t>(s.freq) * s.sf;
  for (int n = 0; n < s.frames * s.st; ++n) {
    const float* in_frame = x + static_cast<std::size_t>(n / s.st) * s.freq * s.channels;
    float* out_frame = y + n * out_freq * s.channels;
    for (std::size_t o = 0; o < out_freq; ++o) {
      const float* in = in_frame + (o / static_cast<std::size_t>(s.sf)) * s.channels;
      float* out = out_frame + o * s.channels;
      for (int c = 0; c < s.channels; ++c) out[c] += in[c];
    }
  }
}

}  // namespace continuo::kernels
