// The SpectroStream encoder's ops (stft, conv2d_strided, avg_pool2d, rvq_encode) against
// naive double-precision references written here from the official definitions (numpy's
// rfft of the Hann-windowed frame, lax.conv_general_dilated with explicit padding and
// window strides, reduce_window sum / area, argmin of squared distances). The convolution
// streams a few frames per call and is compared with one whole-sequence reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "kernels/avg_pool2d/avg_pool2d.hpp"
#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv2d_strided/conv2d_strided.hpp"
#include "kernels/fft/fft.hpp"
#include "kernels/rvq_encode/rvq_encode.hpp"
#include "kernels/stft/stft.hpp"

namespace continuo::kernels {
namespace {

using Rng = std::mt19937_64;

std::vector<float> uniform(Rng& rng, std::size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (float& v : out) v = dist(rng);
  return out;
}

// max |a − b| / max(max |b|, 1e-6) over the arrays: the error relative to the output's scale.
double relative_error(const std::vector<float>& a, const std::vector<double>& b) {
  double err = 0.0, scale = 1e-6;
  for (std::size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return err / scale;
}

constexpr double kBound = 1e-5;

// ---- stft ----------------------------------------------------------------------------------

std::vector<double> naive_stft(const StftShape& s, const std::vector<float>& x) {
  const int bins = s.fft_size / 2;
  std::vector<double> y(static_cast<std::size_t>(s.channels) * s.frames * bins * 2);
  for (int c = 0; c < s.channels; ++c) {
    for (int t = 0; t < s.frames; ++t) {
      for (int k = 0; k < bins; ++k) {
        double re = 0.0, im = 0.0;
        for (int j = 0; j < s.fft_size; ++j) {
          const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * j / s.fft_size);
          const double v = w * x[static_cast<std::size_t>(t * s.hop + j) * s.channels + c];
          const double phase = -2.0 * std::numbers::pi * static_cast<double>(j) * k / s.fft_size;
          re += v * std::cos(phase);
          im += v * std::sin(phase);
        }
        const std::size_t at = ((static_cast<std::size_t>(c) * s.frames + t) * bins + k) * 2;
        y[at] = re;
        y[at + 1] = im;
      }
    }
  }
  return y;
}

TEST(SpectroStreamEncoderOps, StftMatchesNaiveDft) {
  for (const StftShape s : {StftShape{64, 32, 2, 6}, StftShape{960, 480, 2, 4}, StftShape{48, 16, 1, 5}}) {
    SCOPED_TRACE("fft " + std::to_string(s.fft_size) + " hop " + std::to_string(s.hop));
    Rng rng(s.fft_size);
    const auto x = uniform(rng, static_cast<std::size_t>((s.frames - 1) * s.hop + s.fft_size) * s.channels);
    const FftPlan plan = make_fft_plan(s.fft_size);
    std::vector<float> window(static_cast<std::size_t>(s.fft_size)), scratch(stft_scratch_size(s));
    hann_window(s.fft_size, window.data());
    std::vector<float> y(static_cast<std::size_t>(s.channels) * s.frames * s.fft_size);
    stft(s, plan, window.data(), x.data(), scratch.data(), y.data());
    const double err = relative_error(y, naive_stft(s, x));
    std::printf("stft fft %d: max relative error %.3g\n", s.fft_size, err);
    EXPECT_LT(err, kBound);
  }
}

// ---- conv2d_strided ------------------------------------------------------------------------

// Whole sequence from zero history: in[t] = 0 for t < 0 (the official semicausal padding),
// y[τ, o] = b + Σ in[st·τ − (kt − st) + i, sf·o − pad_left + j] · W[i, j].
std::vector<double> naive_conv(const Conv2dStridedShape& s, int frames, const std::vector<float>& x,
                               const std::vector<float>& w, const std::vector<float>& b) {
  const int out_freq = conv2d_strided_out_freq(s);
  std::vector<double> y(static_cast<std::size_t>(frames / s.st) * out_freq * s.cout);
  for (int t = 0; t < frames / s.st; ++t) {
    for (int o = 0; o < out_freq; ++o) {
      for (int co = 0; co < s.cout; ++co) {
        double acc = b[static_cast<std::size_t>(co)];
        for (int i = 0; i < s.kt; ++i) {
          const int ti = s.st * t - (s.kt - s.st) + i;
          for (int j = 0; j < s.kf; ++j) {
            const int fi = s.sf * o - s.pad_left + j;
            if (ti < 0 || fi < 0 || fi >= s.freq) continue;
            for (int ci = 0; ci < s.cin; ++ci) {
              acc += static_cast<double>(x[(static_cast<std::size_t>(ti) * s.freq + fi) * s.cin + ci]) *
                     w[((static_cast<std::size_t>(i) * s.kf + j) * s.cin + ci) * s.cout + co];
            }
          }
        }
        y[(static_cast<std::size_t>(t) * out_freq + o) * s.cout + co] = acc;
      }
    }
  }
  return y;
}

// Streams `calls` calls of shape.frames frames each and returns the concatenated output.
std::vector<float> stream_conv(const Conv2dStridedShape& s, int calls, const std::vector<float>& x,
                               WeightView w, WeightView b) {
  const int out_freq = conv2d_strided_out_freq(s);
  const std::size_t in_floats = static_cast<std::size_t>(s.frames) * s.freq * s.cin;
  const std::size_t out_floats = static_cast<std::size_t>(s.frames / s.st) * out_freq * s.cout;
  std::vector<float> history(conv2d_strided_history_size(s)), scratch(conv2d_strided_scratch_size(s));
  std::vector<float> y(out_floats * static_cast<std::size_t>(calls));
  for (int c = 0; c < calls; ++c) {
    conv2d_strided(s, w, b, history.data(), x.data() + c * in_floats, scratch.data(), y.data() + c * out_floats);
  }
  return y;
}

std::uint16_t to_bf16(float value) {  // round to nearest even
  const auto bits = std::bit_cast<std::uint32_t>(value);
  return static_cast<std::uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

struct ConvCase {
  Conv2dStridedShape shape;
  int calls;
  bool bf16;
};

TEST(SpectroStreamEncoderOps, Conv2dStridedStreamsLikeNaiveWholeSequence) {
  // The official encoder's shapes (kernel max(3, 2·stride), frequency pad kf − sf), smaller
  // channel counts: 3×4 (1,2), 3×6 (1,3), 4×4 (2,2), 4×3 (2,1), a 3×3 (1,1) and a 7×7 base conv.
  const ConvCase cases[] = {
      {{3, 4, 1, 2, 5, 7, 16, 1, 1, 2}, 4, false}, {{3, 6, 1, 3, 4, 6, 15, 1, 2, 1}, 5, false},
      {{4, 4, 2, 2, 6, 5, 8, 1, 1, 2}, 4, false},  {{4, 3, 2, 1, 8, 4, 5, 1, 1, 4}, 3, false},
      {{3, 3, 1, 1, 3, 5, 6, 1, 1, 2}, 3, false},  {{7, 7, 1, 1, 2, 4, 12, 3, 3, 3}, 3, false},
      {{4, 4, 2, 2, 6, 5, 8, 1, 1, 2}, 4, true},
  };
  for (const ConvCase& k : cases) {
    const Conv2dStridedShape& s = k.shape;
    SCOPED_TRACE(std::to_string(s.kt) + "x" + std::to_string(s.kf) + " stride " + std::to_string(s.st) + "," +
                 std::to_string(s.sf) + (k.bf16 ? " bf16" : ""));
    Rng rng(static_cast<std::uint64_t>(s.kt * 100 + s.kf * 10 + s.sf));
    const int frames = s.frames * k.calls;
    const auto x = uniform(rng, static_cast<std::size_t>(frames) * s.freq * s.cin);
    auto w = uniform(rng, static_cast<std::size_t>(s.kt) * s.kf * s.cin * s.cout, -0.5f, 0.5f);
    const auto b = uniform(rng, static_cast<std::size_t>(s.cout));
    std::vector<std::uint16_t> w16(w.size());
    if (k.bf16) {
      for (std::size_t i = 0; i < w.size(); ++i) {
        w16[i] = to_bf16(w[i]);
        w[i] = std::bit_cast<float>(static_cast<std::uint32_t>(w16[i]) << 16);
      }
    }
    const WeightView wv =
        k.bf16 ? WeightView{w16.data(), DType::bf16, w16.size()} : WeightView{w.data(), DType::f32, w.size()};
    const WeightView bv{b.data(), DType::f32, b.size()};
    const auto streamed = stream_conv(s, k.calls, x, wv, bv);
    Conv2dStridedShape whole = s;
    whole.frames = frames;
    const auto once = stream_conv(whole, 1, x, wv, bv);
    EXPECT_EQ(streamed, once);  // bit for bit
    const double err = relative_error(streamed, naive_conv(s, frames, x, w, b));
    std::printf("conv2d_strided %dx%d (%d,%d): max relative error %.3g\n", s.kt, s.kf, s.st, s.sf, err);
    EXPECT_LT(err, kBound);
  }
}

// At stride 1 with the official padding it computes the decoder's conv2d.
TEST(SpectroStreamEncoderOps, Conv2dStridedAtStrideOneIsConv2d) {
  const Conv2dStridedShape s{3, 3, 1, 1, 4, 6, 10, 1, 1, 3};
  const Conv2dShape plain{3, 3, 4, 6, 10, 1, 3};
  Rng rng(5);
  const auto x = uniform(rng, static_cast<std::size_t>(s.frames) * s.freq * s.cin);
  const auto w = uniform(rng, static_cast<std::size_t>(9) * s.cin * s.cout);
  const auto b = uniform(rng, static_cast<std::size_t>(s.cout));
  const WeightView wv{w.data(), DType::f32, w.size()}, bv{b.data(), DType::f32, b.size()};
  std::vector<float> h1(conv2d_history_size(plain)), s1(conv2d_scratch_size(plain));
  std::vector<float> y1(static_cast<std::size_t>(s.frames) * s.freq * s.cout);
  conv2d(plain, wv, bv, h1.data(), x.data(), s1.data(), y1.data());
  // conv2d's tiled kernel may fuse multiply-adds: equal up to rounding, not bit for bit.
  EXPECT_LT(relative_error(stream_conv(s, 1, x, wv, bv), {y1.begin(), y1.end()}), 1e-6);
}

// ---- avg_pool2d ----------------------------------------------------------------------------

TEST(SpectroStreamEncoderOps, AvgPool2dMatchesNaive) {
  for (const AvgPool2dShape s : {AvgPool2dShape{4, 16, 5, 1, 2}, AvgPool2dShape{6, 15, 3, 1, 3},
                                 AvgPool2dShape{8, 8, 4, 2, 2}, AvgPool2dShape{4, 5, 6, 2, 1}}) {
    Rng rng(static_cast<std::uint64_t>(s.st * 10 + s.sf));
    const auto x = uniform(rng, static_cast<std::size_t>(s.frames) * s.freq * s.channels);
    const int out_freq = s.freq / s.sf;
    std::vector<float> y(static_cast<std::size_t>(s.frames / s.st) * out_freq * s.channels);
    std::vector<double> want(y.size());
    for (std::size_t t = 0; t < static_cast<std::size_t>(s.frames / s.st); ++t) {
      for (std::size_t o = 0; o < static_cast<std::size_t>(out_freq); ++o) {
        for (std::size_t c = 0; c < static_cast<std::size_t>(s.channels); ++c) {
          double sum = 0.0;
          for (int i = 0; i < s.st; ++i) {
            for (int j = 0; j < s.sf; ++j) sum += x[((s.st * t + i) * s.freq + s.sf * o + j) * s.channels + c];
          }
          want[(t * out_freq + o) * s.channels + c] = sum / (s.st * s.sf);
        }
      }
    }
    avg_pool2d(s, x.data(), y.data());
    EXPECT_LT(relative_error(y, want), 1e-6);
  }
}

// ---- rvq_encode ----------------------------------------------------------------------------

// Codes of the naive double quantiser: full squared distances, first minimum; and the
// smallest margin (second-best minus best distance) it met.
std::vector<int> naive_rvq(const RvqShape& s, const std::vector<float>& table, std::vector<double> x,
                           double& margin) {
  std::vector<int> codes;
  margin = 1e30;
  for (int l = 0; l < s.levels; ++l) {
    std::vector<double> dist(static_cast<std::size_t>(s.codebook), 0.0);
    for (int c = 0; c < s.codebook; ++c) {
      for (int d = 0; d < s.dim; ++d) {
        const double diff =
            x[static_cast<std::size_t>(d)] - table[(static_cast<std::size_t>(l) * s.codebook + c) * s.dim + d];
        dist[static_cast<std::size_t>(c)] += diff * diff;
      }
    }
    const auto best = static_cast<int>(std::min_element(dist.begin(), dist.end()) - dist.begin());
    auto sorted = dist;
    std::sort(sorted.begin(), sorted.end());
    margin = std::min(margin, sorted[1] - sorted[0]);
    codes.push_back(best);
    for (int d = 0; d < s.dim; ++d) {
      x[static_cast<std::size_t>(d)] -= table[(static_cast<std::size_t>(l) * s.codebook + best) * s.dim + d];
    }
  }
  return codes;
}

TEST(SpectroStreamEncoderOps, RvqEncodeMatchesNaiveNearestCodewords) {
  for (const RvqShape s : {RvqShape{12, 16, 8}, RvqShape{12, 1024, 256}}) {
    Rng rng(static_cast<std::uint64_t>(s.codebook));
    std::vector<float> table(static_cast<std::size_t>(s.levels) * s.codebook * s.dim);
    for (int l = 0; l < s.levels; ++l) {  // shrinking levels, like a trained RVQ
      const auto rows =
          uniform(rng, static_cast<std::size_t>(s.codebook) * s.dim, -std::pow(0.8f, l), std::pow(0.8f, l));
      std::copy(rows.begin(), rows.end(), table.begin() + static_cast<std::ptrdiff_t>(l * rows.size()));
    }
    const WeightView view{table.data(), DType::f32, table.size()};
    std::vector<float> norms(static_cast<std::size_t>(s.levels) * s.codebook);
    rvq_codebook_norms(s, view, norms.data());
    for (int trial = 0; trial < 20; ++trial) {
      auto x = uniform(rng, static_cast<std::size_t>(s.dim));
      double margin = 0.0;
      const auto want = naive_rvq(s, table, {x.begin(), x.end()}, margin);
      std::vector<int> codes(static_cast<std::size_t>(s.levels));
      rvq_encode(s, view, norms.data(), x.data(), codes.data());
      if (margin > 1e-4) EXPECT_EQ(codes, want) << "codebook " << s.codebook << " trial " << trial;
    }
  }
}

TEST(SpectroStreamEncoderOps, RvqEncodeTieTakesLowestIndex) {
  const RvqShape s{2, 4, 2};
  // Level 0: rows 1 and 3 equal and nearest; level 1: rows 0 and 2 equidistant from the residual.
  const std::vector<float> table = {5, 5, 1, 0, -5, -5, 1, 0, /* level 1 */ 1, 0, 9, 9, -1, 0, 9, -9};
  const WeightView view{table.data(), DType::f32, table.size()};
  std::vector<float> norms(8), x = {1, 0};
  rvq_codebook_norms(s, view, norms.data());
  std::vector<int> codes(2);
  rvq_encode(s, view, norms.data(), x.data(), codes.data());
  EXPECT_EQ(codes, (std::vector<int>{1, 0}));
}

}  // namespace
}  // namespace continuo::kernels
