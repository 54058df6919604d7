#include "kernels/avg_pool2d/avg_pool2d.hpp"

#include <algorithm>
#include <cstddef>

namespace continuo::kernels {

void avg_pool2d(const AvgPool2dShape& s, const float* x, float* y) {
  const int out_freq = s.freq / s.sf;
  const auto channels = static_cast<std::size_t>(s.channels);
  const auto area = static_cast<float>(s.st * s.sf);
  for (int t = 0; t < s.frames / s.st; ++t) {
    for (int o = 0; o < out_freq; ++o) {
      float* out = y + (static_cast<std::size_t>(t) * out_freq + o) * channels;
      std::fill(out, out + channels, 0.0f);
      for (int i = 0; i < s.st; ++i) {
        for (int j = 0; j < s.sf; ++j) {
          const float* in = x + (static_cast<std::size_t>(s.st * t + i) * s.freq + s.sf * o + j) * channels;
          for (std::size_t c = 0; c < channels; ++c) out[c] += in[c];
        }
      }
      for (std::size_t c = 0; c < channels; ++c) out[c] /= area;
    }
  }
}

}  // namespace continuo::kernels
