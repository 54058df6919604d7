// The SpectroStream decoder's ops on the harness of test_kernels.cpp: a table of cases, each
// run on fixed-seed random inputs and compared with a deliberately naive double-precision
// reference written here from the official definitions (lax.conv_general_dilated with
// explicit padding, jnp.repeat, numpy's irfft and overlap_and_add). Streaming cases feed
// the frames over several calls and compare with the whole-sequence reference, so each
// also checks that streaming equals whole-sequence computation. phase_accumulate and
// peak_phase also have property tests of their own (SpectroStreamOpsPhaseAccumulate,
// SpectroStreamOpsPeakPhase).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d.hpp"
#include "kernels/elu/elu.hpp"
#include "kernels/fft/fft.hpp"
#include "kernels/istft/istft.hpp"
#include "kernels/peak_phase/peak_phase.hpp"
#include "kernels/phase_accumulate/phase_accumulate.hpp"
#include "kernels/rvq_decode/rvq_decode.hpp"
#include "kernels/upsample2d/upsample2d.hpp"

namespace continuo::kernels {
namespace {

// ---- Backends ----------------------------------------------------------------------------

struct Backend {
  const char* name;
  decltype(&conv2d) conv2d;
  decltype(&conv_transpose2d) conv_transpose2d;
  decltype(&elu) elu;
  decltype(&upsample2d_add) upsample2d_add;
  decltype(&rvq_decode) rvq_decode;
  decltype(&fft) fft;
  decltype(&istft) istft;
  decltype(&phase_accumulate) phase_accumulate;
  decltype(&peak_phase) peak_phase;
};

const Backend kCpu{"cpu", &conv2d, &conv_transpose2d, &elu, &upsample2d_add, &rvq_decode, &fft, &istft,
                   &phase_accumulate, &peak_phase};

std::vector<const Backend*> backends() { return {&kCpu}; }

// ---- Test data ---------------------------------------------------------------------------

using Rng = std::mt19937_64;

std::vector<float> uniform(Rng& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (float& v : out) v = dist(rng);
  return out;
}

std::uint16_t to_bf16(float value) {  // round to nearest even
  const auto bits = std::bit_cast<std::uint32_t>(value);
  return static_cast<std::uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// A weight held as stored (fp32 or bf16 bits) and as the fp32 values the op sees.
struct Param {
  std::vector<float> f32;
  std::vector<std::uint16_t> bf16;
  DType dtype = DType::f32;

  WeightView view() const {
    if (f32.empty()) return {};
    if (dtype == DType::bf16) return {bf16.data(), DType::bf16, bf16.size()};
    return {f32.data(), DType::f32, f32.size()};
  }
  double operator[](std::size_t i) const { return f32[i]; }
};

Param param(Rng& rng, std::size_t n, DType dtype, float lo, float hi) {
  Param p{uniform(rng, n, lo, hi), {}, dtype};
  if (dtype == DType::bf16) {
    for (float& v : p.f32) {
      p.bf16.push_back(to_bf16(v));
      v = WeightView::bf16_to_f32(p.bf16.back());
    }
  }
  return p;
}

// max |y − ref| over max |ref|.
double relative_error(const std::vector<float>& y, const std::vector<double>& ref) {
  if (y.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double worst = 0.0;
  double scale = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(y[i]) - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return worst / std::max(scale, 1e-30);
}

const char* dtype_name(DType dtype) { return dtype == DType::f32 ? "f32" : "bf16"; }

// Splits `frames` into calls of `per_call` frames (the last may be shorter).
std::vector<int> chunks(int frames, int per_call) {
  std::vector<int> out;
  for (int done = 0; done < frames; done += per_call) out.push_back(std::min(per_call, frames - done));
  return out;
}

// One call's input: frames t … t + n − 1 of every channel of x [channels, frames, frame_floats],
// as [channels, n, frame_floats].
std::vector<float> call_frames(const std::vector<float>& x, int channels, int frames, std::size_t frame_floats, int t,
                               int n) {
  std::vector<float> in;
  for (int c = 0; c < channels; ++c) {
    const float* src = x.data() + (static_cast<std::size_t>(c) * frames + t) * frame_floats;
    in.insert(in.end(), src, src + n * frame_floats);
  }
  return in;
}

// ---- Cases -------------------------------------------------------------------------------

class Case {
 public:
  virtual ~Case() = default;
  virtual std::string name() const = 0;
  virtual void setup(Rng& rng) = 0;
  virtual void compute(const Backend& backend) = 0;
  double error() const { return relative_error(out_, reference()); }
  const std::vector<float>& output() const { return out_; }

 protected:
  virtual std::vector<double> reference() const = 0;
  std::vector<float> out_;
};

// -- conv2d --

class Conv2dCase : public Case {
 public:
  // shape.frames is the whole sequence; per_call frames go to each streaming call.
  Conv2dCase(Conv2dShape shape, int per_call, DType dtype) : s_(shape), per_call_(per_call), dtype_(dtype) {}
  std::string name() const override {
    return "conv2d_k" + std::to_string(s_.kt) + "x" + std::to_string(s_.kf) + "_c" + std::to_string(s_.cin) + "to" +
           std::to_string(s_.cout) + "_f" + std::to_string(s_.freq) + "_p" + std::to_string(s_.pad_left) + "_t" +
           std::to_string(s_.frames) + "by" + std::to_string(per_call_) + "_" + dtype_name(dtype_);
  }
  void setup(Rng& rng) override {
    x_ = uniform(rng, static_cast<std::size_t>(s_.frames) * s_.freq * s_.cin, -2.0f, 2.0f);
    w_ = param(rng, static_cast<std::size_t>(s_.kt) * s_.kf * s_.cin * s_.cout, dtype_, -0.5f, 0.5f);
    b_ = param(rng, static_cast<std::size_t>(s_.cout), dtype_, -1.0f, 1.0f);
  }
  void compute(const Backend& backend) override {
    Conv2dShape call = s_;
    call.frames = per_call_;
    std::vector<float> history(conv2d_history_size(call), 0.0f);
    std::vector<float> scratch(conv2d_scratch_size(call));
    out_.assign(static_cast<std::size_t>(s_.frames) * s_.freq * s_.cout, 0.0f);
    const std::size_t in_frame = static_cast<std::size_t>(s_.freq) * s_.cin;
    const std::size_t out_frame = static_cast<std::size_t>(s_.freq) * s_.cout;
    int t = 0;
    for (int n : chunks(s_.frames, per_call_)) {
      call.frames = n;
      backend.conv2d(call, w_.view(), b_.view(), history.data(), x_.data() + t * in_frame, scratch.data(),
                     out_.data() + t * out_frame);
      t += n;
    }
  }

 private:
  // lax.conv_general_dilated, stride 1: pad time (kt − 1, 0) and frequency (pad_left, rest).
  std::vector<double> reference() const override {
    std::vector<double> y;
    for (int t = 0; t < s_.frames; ++t) {
      for (int f = 0; f < s_.freq; ++f) {
        for (int o = 0; o < s_.cout; ++o) {
          double sum = b_[static_cast<std::size_t>(o)];
          for (int i = 0; i < s_.kt; ++i) {
            for (int j = 0; j < s_.kf; ++j) {
              const int ti = t - (s_.kt - 1) + i;
              const int fj = f - s_.pad_left + j;
              if (ti < 0 || fj < 0 || fj >= s_.freq) continue;
              for (int c = 0; c < s_.cin; ++c) {
                sum += static_cast<double>(x_[(static_cast<std::size_t>(ti) * s_.freq + fj) * s_.cin + c]) *
                       w_[((static_cast<std::size_t>(i) * s_.kf + j) * s_.cin + c) * s_.cout + o];
              }
            }
          }
          y.push_back(sum);
        }
      }
    }
    return y;
  }

  Conv2dShape s_;
  int per_call_;
  DType dtype_;
  std::vector<float> x_;
  Param w_, b_;
};

// -- conv_transpose2d --

class ConvTranspose2dCase : public Case {
 public:
  ConvTranspose2dCase(ConvTranspose2dShape shape, int per_call, DType dtype)
      : s_(shape), per_call_(per_call), dtype_(dtype) {
    s_.pad_left = conv_transpose_same_pad(s_.kf, s_.sf);
  }
  std::string name() const override {
    return "conv_transpose2d_k" + std::to_string(s_.kt) + "x" + std::to_string(s_.kf) + "_s" + std::to_string(s_.st) +
           "x" + std::to_string(s_.sf) + "_c" + std::to_string(s_.cin) + "to" + std::to_string(s_.cout) + "_f" +
           std::to_string(s_.freq) + "_t" + std::to_string(s_.frames) + "by" + std::to_string(per_call_) + "_" +
           dtype_name(dtype_);
  }
  void setup(Rng& rng) override {
    x_ = uniform(rng, static_cast<std::size_t>(s_.frames) * s_.freq * s_.cin, -2.0f, 2.0f);
    w_ = param(rng, static_cast<std::size_t>(s_.kt) * s_.kf * s_.cin * s_.cout, dtype_, -0.5f, 0.5f);
    b_ = param(rng, static_cast<std::size_t>(s_.cout), dtype_, -1.0f, 1.0f);
  }
  void compute(const Backend& backend) override {
    ConvTranspose2dShape call = s_;
    call.frames = per_call_;
    std::vector<float> overlap(conv_transpose2d_overlap_size(call), 0.0f);
    std::vector<float> scratch(conv_transpose2d_scratch_size(call));
    const std::size_t in_frame = static_cast<std::size_t>(s_.freq) * s_.cin;
    const std::size_t out_frame = static_cast<std::size_t>(s_.freq) * s_.sf * s_.cout;
    out_.assign(static_cast<std::size_t>(s_.frames) * s_.st * out_frame, 0.0f);
    int t = 0;
    for (int n : chunks(s_.frames, per_call_)) {
      call.frames = n;
      backend.conv_transpose2d(call, w_.view(), b_.view(), overlap.data(), x_.data() + t * in_frame, scratch.data(),
                               out_.data() + t * s_.st * out_frame);
      t += n;
    }
  }

 private:
  // The official layer(): lax.conv_general_dilated with lhs_dilation = strides and explicit
  // padding, causal in time (kt − 1, st − 1) and "same" in frequency, kernel not flipped.
  std::vector<double> reference() const override {
    const int out_t = s_.frames * s_.st;
    const int out_f = s_.freq * s_.sf;
    const int pad_t = s_.kt - 1;
    auto input = [&](int dt, int df, int c) -> double {  // dilated, padded input
      const int t = dt - pad_t;
      const int f = df - s_.pad_left;
      if (t < 0 || f < 0 || t % s_.st || f % s_.sf) return 0.0;
      if (t / s_.st >= s_.frames || f / s_.sf >= s_.freq) return 0.0;
      return x_[(static_cast<std::size_t>(t / s_.st) * s_.freq + f / s_.sf) * s_.cin + c];
    };
    std::vector<double> y;
    for (int t = 0; t < out_t; ++t) {
      for (int f = 0; f < out_f; ++f) {
        for (int o = 0; o < s_.cout; ++o) {
          double sum = b_[static_cast<std::size_t>(o)];
          for (int a = 0; a < s_.kt; ++a) {
            for (int b = 0; b < s_.kf; ++b) {
              for (int c = 0; c < s_.cin; ++c) {
                sum +=
                    input(t + a, f + b, c) * w_[((static_cast<std::size_t>(a) * s_.kf + b) * s_.cin + c) * s_.cout + o];
              }
            }
          }
          y.push_back(sum);
        }
      }
    }
    return y;
  }

  ConvTranspose2dShape s_;
  int per_call_;
  DType dtype_;
  std::vector<float> x_;
  Param w_, b_;
};

// -- elu, upsample2d_add, rvq_decode --

class EluCase : public Case {
 public:
  explicit EluCase(std::size_t n) : n_(n) {}
  std::string name() const override { return "elu_n" + std::to_string(n_); }
  void setup(Rng& rng) override {
    x_ = uniform(rng, n_, -6.0f, 4.0f);
    x_[0] = 0.0f;
    x_[1] = -1e-6f;  // expm1, not exp − 1: relative precision near 0
  }
  void compute(const Backend& backend) override {
    out_ = x_;
    backend.elu(n_, out_.data(), out_.data());  // in place, as the decoder uses it
  }

 private:
  std::vector<double> reference() const override {
    std::vector<double> y;
    for (float v : x_) y.push_back(v > 0 ? v : std::expm1(static_cast<double>(v)));
    return y;
  }
  std::size_t n_;
  std::vector<float> x_;
};

class UpsampleCase : public Case {
 public:
  explicit UpsampleCase(Upsample2dShape shape) : s_(shape) {}
  std::string name() const override {
    return "upsample2d_add_t" + std::to_string(s_.frames) + "_f" + std::to_string(s_.freq) + "_c" +
           std::to_string(s_.channels) + "_s" + std::to_string(s_.st) + "x" + std::to_string(s_.sf);
  }
  void setup(Rng& rng) override {
    x_ = uniform(rng, static_cast<std::size_t>(s_.frames) * s_.freq * s_.channels, -1.0f, 1.0f);
    y0_ = uniform(rng, x_.size() * s_.st * s_.sf, -1.0f, 1.0f);
  }
  void compute(const Backend& backend) override {
    out_ = y0_;
    backend.upsample2d_add(s_, x_.data(), out_.data());
  }

 private:
  std::vector<double> reference() const override {  // y[::st-phase, ::sf-phase] == x
    std::vector<double> y(y0_.begin(), y0_.end());
    const int out_f = s_.freq * s_.sf;
    for (int t = 0; t < s_.frames * s_.st; ++t) {
      for (int f = 0; f < out_f; ++f) {
        for (int c = 0; c < s_.channels; ++c) {
          y[(static_cast<std::size_t>(t) * out_f + f) * s_.channels + c] +=
              x_[(static_cast<std::size_t>(t / s_.st) * s_.freq + f / s_.sf) * s_.channels + c];
        }
      }
    }
    return y;
  }
  Upsample2dShape s_;
  std::vector<float> x_, y0_;
};

class RvqCase : public Case {
 public:
  RvqCase(RvqShape shape, DType dtype) : s_(shape), dtype_(dtype) {}
  std::string name() const override {
    return "rvq_decode_l" + std::to_string(s_.levels) + "_v" + std::to_string(s_.codebook) + "_d" +
           std::to_string(s_.dim) + "_" + dtype_name(dtype_);
  }
  void setup(Rng& rng) override {
    table_ = param(rng, static_cast<std::size_t>(s_.levels) * s_.codebook * s_.dim, dtype_, -1.0f, 1.0f);
    std::uniform_int_distribution<int> code(0, s_.codebook - 1);
    codes_.resize(static_cast<std::size_t>(s_.levels));
    for (int& c : codes_) c = code(rng);
    codes_.back() = s_.codebook - 1;  // the last row of a level
  }
  void compute(const Backend& backend) override {
    out_.assign(static_cast<std::size_t>(s_.dim), 0.0f);
    backend.rvq_decode(s_, table_.view(), codes_.data(), out_.data());
  }

 private:
  std::vector<double> reference() const override {
    std::vector<double> y(static_cast<std::size_t>(s_.dim), 0.0);
    for (int l = 0; l < s_.levels; ++l) {
      for (int d = 0; d < s_.dim; ++d) {
        y[static_cast<std::size_t>(d)] +=
            table_[(static_cast<std::size_t>(l) * s_.codebook + codes_[static_cast<std::size_t>(l)]) * s_.dim + d];
      }
    }
    return y;
  }
  RvqShape s_;
  DType dtype_;
  Param table_;
  std::vector<int> codes_;
};

// -- fft, istft --

class FftCase : public Case {
 public:
  FftCase(int n, FftDirection direction) : n_(n), direction_(direction), plan_(make_fft_plan(n)) {}
  std::string name() const override {
    return std::string("fft_") + (direction_ == FftDirection::forward ? "forward" : "inverse") + "_n" +
           std::to_string(n_);
  }
  void setup(Rng& rng) override {
    const std::vector<float> v = uniform(rng, 2 * static_cast<std::size_t>(n_), -1.0f, 1.0f);
    for (int k = 0; k < n_; ++k) x_.emplace_back(v[2 * k], v[2 * k + 1]);
  }
  void compute(const Backend& backend) override {
    std::vector<std::complex<float>> y(static_cast<std::size_t>(n_));
    backend.fft(plan_, direction_, x_.data(), y.data());
    out_.clear();
    for (auto v : y) out_.insert(out_.end(), {v.real(), v.imag()});
  }

 private:
  std::vector<double> reference() const override {  // the DFT sum itself
    const double sign = direction_ == FftDirection::forward ? -1.0 : 1.0;
    std::vector<double> y;
    for (int k = 0; k < n_; ++k) {
      std::complex<double> sum = 0.0;
      for (int j = 0; j < n_; ++j) {
        const double angle = sign * 2.0 * std::numbers::pi * static_cast<double>((static_cast<long>(j) * k) % n_) / n_;
        sum += std::complex<double>(x_[static_cast<std::size_t>(j)]) * std::polar(1.0, angle);
      }
      y.insert(y.end(), {sum.real(), sum.imag()});
    }
    return y;
  }
  int n_;
  FftDirection direction_;
  FftPlan plan_;
  std::vector<std::complex<float>> x_;
};

class IstftCase : public Case {
 public:
  // shape.frames is the whole sequence, fed per_call frames at a time.
  IstftCase(IstftShape shape, int per_call) : s_(shape), per_call_(per_call), plan_(make_fft_plan(shape.fft_size)) {}
  std::string name() const override {
    return "istft_n" + std::to_string(s_.fft_size) + "_hop" + std::to_string(s_.hop) + "_ch" +
           std::to_string(s_.channels) + "_t" + std::to_string(s_.frames) + "by" + std::to_string(per_call_);
  }
  void setup(Rng& rng) override {
    x_ = uniform(rng, static_cast<std::size_t>(s_.channels) * s_.frames * s_.fft_size, -1.0f, 1.0f);
  }
  void compute(const Backend& backend) override {
    IstftShape call = s_;
    call.frames = per_call_;
    std::vector<float> window(static_cast<std::size_t>(s_.fft_size));
    istft_window(s_.fft_size, s_.hop, window.data());
    std::vector<float> overlap(istft_overlap_size(call), 0.0f);
    std::vector<float> scratch(istft_scratch_size(call));
    const auto frame = static_cast<std::size_t>(s_.fft_size);
    out_.assign(static_cast<std::size_t>(s_.frames) * s_.hop * s_.channels, 0.0f);
    int t = 0;
    for (int n : chunks(s_.frames, per_call_)) {
      call.frames = n;
      std::vector<float> in = call_frames(x_, s_.channels, s_.frames, frame, t, n);  // [channels, n, bins, 2]
      backend.istft(call, plan_, window.data(), overlap.data(), in.data(), scratch.data(),
                    out_.data() + static_cast<std::size_t>(t) * s_.hop * s_.channels);
      t += n;
    }
  }

 private:
  // numpy irfft (Nyquist 0, DC imaginary part ignored) × inverse_stft_window_fn(hann),
  // overlap_and_add, the last fft_size − hop samples trimmed (causal).
  std::vector<double> reference() const override {
    const int n = s_.fft_size;
    auto hann = [&](int i) { return 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / n); };
    std::vector<double> window(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      double denominator = 0.0;
      for (int j = i % s_.hop; j < n; j += s_.hop) denominator += hann(j) * hann(j);
      window[static_cast<std::size_t>(i)] = hann(i) / denominator;
    }
    const int length = s_.frames * s_.hop;
    std::vector<double> y(static_cast<std::size_t>(length) * s_.channels, 0.0);
    for (int c = 0; c < s_.channels; ++c) {
      for (int t = 0; t < s_.frames; ++t) {
        const float* bins = x_.data() + (static_cast<std::size_t>(c) * s_.frames + t) * n;
        for (int j = 0; j < n && t * s_.hop + j < length; ++j) {
          double sample = bins[0];
          for (int k = 1; k < n / 2; ++k) {
            const double angle = 2.0 * std::numbers::pi * static_cast<double>((static_cast<long>(k) * j) % n) / n;
            sample += 2.0 * (bins[2 * k] * std::cos(angle) - bins[2 * k + 1] * std::sin(angle));
          }
          y[static_cast<std::size_t>(t * s_.hop + j) * s_.channels + c] +=
              sample / n * window[static_cast<std::size_t>(j)];
        }
      }
    }
    return y;
  }
  IstftShape s_;
  int per_call_;
  FftPlan plan_;
  std::vector<float> x_;
};

// -- phase_accumulate, peak_phase --

// A spectrum output mode: in place on x [channels, frames, fft_size/2, (re, im)], with a state
// per (channel, bin) that starts at zero. The whole sequence is fed per_call frames at a time;
// its first `skipped` frames are the lookahead's (skipped), however many calls they span.
class SpectrumModeCase : public Case {
 public:
  SpectrumModeCase(std::string op, int fft_size, int channels, int frames, int per_call, int skipped)
      : op_(std::move(op)), fft_size_(fft_size), channels_(channels), frames_(frames), per_call_(per_call),
        skipped_(skipped) {}
  std::string name() const override {
    return op_ + "_n" + std::to_string(fft_size_) + "_ch" + std::to_string(channels_) + "_t" + std::to_string(frames_) +
           "by" + std::to_string(per_call_) + "_skip" + std::to_string(skipped_);
  }
  void setup(Rng& rng) override {
    x_ = uniform(rng, static_cast<std::size_t>(channels_) * frames_ * fft_size_, -1.0f, 1.0f);
  }
  void compute(const Backend& backend) override {
    const auto frame = static_cast<std::size_t>(fft_size_);
    clear_state();
    out_ = x_;
    int t = 0;
    for (int n : chunks(frames_, per_call_)) {
      std::vector<float> in = call_frames(x_, channels_, frames_, frame, t, n);  // [channels, n, bins, 2]
      run(backend, n, skipped_ - t, in.data());  // negative: none skipped
      for (int c = 0; c < channels_; ++c) {
        std::copy_n(in.data() + static_cast<std::size_t>(c) * n * frame, n * frame,
                    out_.data() + (static_cast<std::size_t>(c) * frames_ + t) * frame);
      }
      t += n;
    }
  }

 protected:
  virtual void clear_state() = 0;
  virtual void run(const Backend& backend, int frames, int first_frame, float* x) = 0;  // one call
  std::string op_;
  int fft_size_, channels_, frames_, per_call_, skipped_;
  std::vector<float> x_;
};

class PhaseAccumulateCase : public SpectrumModeCase {
 public:
  PhaseAccumulateCase(PhaseAccumulateShape s, int per_call, int skipped)
      : SpectrumModeCase("phase_accumulate", s.fft_size, s.channels, s.frames, per_call, skipped) {}

 private:
  void clear_state() override {
    phase_.assign(phase_accumulate_state_size({fft_size_, channels_, frames_}), 0.0);
  }
  void run(const Backend& backend, int frames, int first_frame, float* x) override {
    backend.phase_accumulate({fft_size_, channels_, frames}, first_frame, phase_.data(), x);
  }
  // φ_t = Σ_{skipped <= s <= t} atan2(im_s, re_s), never wrapped; out = |z| e^{iφ}.
  std::vector<double> reference() const override {
    std::vector<double> y(x_.begin(), x_.end());
    const int bins = fft_size_ / 2;
    for (int c = 0; c < channels_; ++c) {
      for (int k = 0; k < bins; ++k) {
        double phase = 0.0;
        for (int t = skipped_; t < frames_; ++t) {
          double* z = y.data() + ((static_cast<std::size_t>(c) * frames_ + t) * bins + k) * 2;
          phase += std::atan2(z[1], z[0]);
          const double magnitude = std::hypot(z[0], z[1]);
          z[0] = magnitude * std::cos(phase);
          z[1] = magnitude * std::sin(phase);
        }
      }
    }
    return y;
  }
  std::vector<double> phase_;
};

// The magnitudes peak_phase sees: fp32, one rounding per operation.
float magnitude_of(float re, float im) {
  const float re2 = re * re;
  const float im2 = im * im;
  const float power = re2 + im2;
  return std::sqrt(power + 1e-20f);
}

class PeakPhaseCase : public SpectrumModeCase {
 public:
  PeakPhaseCase(PeakPhaseShape s, int per_call, int skipped)
      : SpectrumModeCase("peak_phase", s.fft_size, s.channels, s.frames, per_call, skipped) {}

 private:
  void clear_state() override {
    psi_.assign(peak_phase_state_size({fft_size_, channels_, frames_}), 0.0);
    scratch_.assign(peak_phase_scratch_size({fft_size_, channels_, frames_}), 0.0f);
  }
  void run(const Backend& backend, int frames, int first_frame, float* x) override {
    backend.peak_phase({fft_size_, channels_, frames}, first_frame, psi_.data(), scratch_.data(), x);
  }
  // From the definition, bin by bin: the peaks found by looking at each bin's neighbours, each
  // bin's nearest peak by searching all of them, ψ never wrapped.
  std::vector<double> reference() const override {
    std::vector<double> y(x_.begin(), x_.end());
    const int bins = fft_size_ / 2;
    for (int c = 0; c < channels_; ++c) {
      std::vector<double> psi(static_cast<std::size_t>(bins), 0.0);
      for (int t = skipped_; t < frames_; ++t) {
        double* z = y.data() + (static_cast<std::size_t>(c) * frames_ + t) * fft_size_;
        std::vector<float> m(static_cast<std::size_t>(bins));
        for (int k = 0; k < bins; ++k) m[k] = magnitude_of(static_cast<float>(z[2 * k]), static_cast<float>(z[2 * k + 1]));
        const float threshold = kPeakFloor * *std::max_element(m.begin(), m.end());
        std::vector<int> peaks;
        for (int k = 1; k + 1 < bins; ++k) {
          if (m[k] >= m[k - 1] && m[k] > m[k + 1] && m[k] > threshold) peaks.push_back(k);
        }
        std::vector<double> next(psi);
        for (int k = 0; k < bins; ++k) {
          int p = k;  // without peaks, itself
          double kappa = k;
          if (!peaks.empty()) {
            p = peaks.front();
            for (int q : peaks) {  // in order, strictly nearer: of two equally near, the left
              if (std::abs(q - k) < std::abs(p - k)) p = q;
            }
            const double l = std::log(double{m[p - 1]}), c0 = std::log(double{m[p]}), r = std::log(double{m[p + 1]});
            kappa = p + std::clamp(0.5 * (l - r) / (l - 2.0 * c0 + r), -0.5, 0.5);
          }
          next[k] = psi[p] + std::numbers::pi * kappa;
          const double phase = next[k] - std::numbers::pi * k;
          z[2 * k] = m[k] * std::cos(phase);
          z[2 * k + 1] = m[k] * std::sin(phase);
        }
        psi = next;
      }
    }
    return y;
  }
  std::vector<double> psi_;
  std::vector<float> scratch_;
};

// ---- The table ---------------------------------------------------------------------------

using Factory = std::function<std::unique_ptr<Case>()>;

template <typename C, typename... Args>
Factory make(Args... args) {
  return [=] { return std::make_unique<C>(args...); };
}

// The real decoder's layer shapes with fewer channels (the kernels, strides and paddings
// are what matter), the tiny fixture's, odd sizes for the tails; streaming one frame (or
// one token) per call.
std::vector<Factory> cases() {
  constexpr DType f32 = DType::f32;
  constexpr DType bf16 = DType::bf16;
  using C2 = Conv2dShape;
  using CT = ConvTranspose2dShape;
  return {
      make<Conv2dCase>(C2{3, 3, 8, 16, 10, 1, 6}, 1, f32),  // conv2d_3x3
      make<Conv2dCase>(C2{3, 3, 8, 16, 10, 1, 6}, 4, bf16),
      make<Conv2dCase>(C2{3, 3, 8, 16, 10, 1, 6}, 6, f32),                 // whole sequence in one call
      make<Conv2dCase>(C2{7, 7, 12, 2, 40, 3, 8}, 4, f32),                 // base_conv_last
      make<Conv2dCase>(C2{1, 1, 40, 100, 1, 0, 3}, 1, f32),                // conv1x1 (input layer)
      make<Conv2dCase>(C2{1, 1, 17, 33, 5, 0, 2}, 2, bf16),                // shortcut conv1x1
      make<Conv2dCase>(C2{2, 4, 3, 5, 9, 2, 5}, 2, f32),                   // even kernel, uneven padding
      make<ConvTranspose2dCase>(CT{4, 3, 2, 1, 16, 24, 5, 0, 5}, 1, f32),  // decoder_0 (4×3)
      make<ConvTranspose2dCase>(CT{4, 4, 2, 2, 12, 8, 5, 0, 6}, 2, f32),   // decoder_1 (4×4)
      make<ConvTranspose2dCase>(CT{3, 4, 1, 2, 8, 8, 10, 0, 8}, 4, bf16),  // decoder_2.. (3×4)
      make<ConvTranspose2dCase>(CT{3, 6, 1, 3, 8, 4, 20, 0, 8}, 4, f32),   // decoder_4 (3×6)
      make<ConvTranspose2dCase>(CT{4, 4, 2, 2, 8, 16, 8, 0, 3}, 3, f32),   // tiny decoder_0
      make<ConvTranspose2dCase>(CT{5, 3, 2, 4, 3, 7, 6, 0, 5}, 2, f32),    // sf > kf − 1
      make<EluCase>(1000),
      make<EluCase>(37),
      make<UpsampleCase>(Upsample2dShape{2, 5, 16, 2, 1}),
      make<UpsampleCase>(Upsample2dShape{4, 7, 3, 1, 3}),
      make<UpsampleCase>(Upsample2dShape{1, 8, 16, 2, 2}),
      make<RvqCase>(RvqShape{12, 1024, 256}, f32),
      make<RvqCase>(RvqShape{12, 16, 8}, bf16),
      make<FftCase>(960, FftDirection::inverse),
      make<FftCase>(960, FftDirection::forward),
      make<FftCase>(64, FftDirection::inverse),
      make<FftCase>(2 * 3 * 7 * 11, FftDirection::forward),
      make<FftCase>(61, FftDirection::inverse),  // prime
      make<FftCase>(1, FftDirection::inverse),
      make<IstftCase>(IstftShape{960, 480, 2, 12}, 4),  // 48 kHz: 4 STFT frames per token
      make<IstftCase>(IstftShape{64, 32, 2, 10}, 2),    // tiny: 2 per token
      make<IstftCase>(IstftShape{64, 32, 2, 10}, 1),
      make<IstftCase>(IstftShape{48, 16, 1, 9}, 3),  // three overlapping frames
      make<PhaseAccumulateCase>(PhaseAccumulateShape{960, 2, 12}, 4, 4),  // 48 kHz: the first call masked
      make<PhaseAccumulateCase>(PhaseAccumulateShape{64, 2, 10}, 2, 3),    // a mask over two calls
      make<PhaseAccumulateCase>(PhaseAccumulateShape{48, 1, 9}, 3, 0),
      make<PeakPhaseCase>(PeakPhaseShape{1920, 2, 6}, 2, 2),  // the peak_phase codec's: the first call masked
      make<PeakPhaseCase>(PeakPhaseShape{64, 2, 10}, 2, 3),   // a mask over two calls
      make<PeakPhaseCase>(PeakPhaseShape{48, 1, 9}, 3, 0),
  };
}

struct Entry {
  Factory make;
  const Backend* backend;
};

void PrintTo(const Entry& entry, std::ostream* os) { *os << entry.make()->name() << " on " << entry.backend->name; }

std::vector<Entry> entries() {
  std::vector<Entry> out;
  for (const Backend* backend : backends()) {
    for (Factory& f : cases()) out.push_back({std::move(f), backend});
  }
  return out;
}

std::uint64_t seed_of(const std::string& name) {  // FNV-1a
  std::uint64_t h = 14695981039346656037ull;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

class SpectroStreamOps : public testing::TestWithParam<Entry> {};

TEST_P(SpectroStreamOps, MatchesNaiveReference) {
  const std::unique_ptr<Case> c = GetParam().make();
  Rng rng(seed_of(c->name()));
  c->setup(rng);
  c->compute(*GetParam().backend);
  const double error = c->error();
  char shown[32];
  std::snprintf(shown, sizeof shown, "%.3g", error);
  RecordProperty("max_relative_error", shown);
  EXPECT_LE(error, 1e-5) << c->name() << " on " << GetParam().backend->name;
}

INSTANTIATE_TEST_SUITE_P(SpectroStream, SpectroStreamOps, testing::ValuesIn(entries()),
                         [](const testing::TestParamInfo<Entry>& info) {
                           return info.param.make()->name() + "_" + info.param.backend->name;
                         });

// Streaming is not just close to the whole-sequence result: the same sums in the same
// order, so bit for bit equal.
TEST(SpectroStreamOpsStreaming, ConvolutionsMatchWholeSequenceExactly) {
  for (int per_call : {1, 2}) {
    Conv2dCase conv({3, 3, 8, 16, 10, 1, 6}, per_call, DType::f32);
    ConvTranspose2dCase up({4, 4, 2, 2, 12, 8, 5, 0, 6}, per_call, DType::f32);
    Conv2dCase conv_whole({3, 3, 8, 16, 10, 1, 6}, 6, DType::f32);
    ConvTranspose2dCase up_whole({4, 4, 2, 2, 12, 8, 5, 0, 6}, 6, DType::f32);
    for (Case* c : {static_cast<Case*>(&conv), static_cast<Case*>(&up), static_cast<Case*>(&conv_whole),
                    static_cast<Case*>(&up_whole)}) {
      Rng rng(seed_of("streaming"));
      c->setup(rng);
      c->compute(kCpu);
    }
    EXPECT_EQ(conv.output(), conv_whole.output()) << per_call;
    EXPECT_EQ(up.output(), up_whole.output()) << per_call;
  }
}

TEST(SpectroStreamOpsFft, RefusesLargePrimeFactors) {
  EXPECT_THROW(make_fft_plan(67), std::invalid_argument);
  EXPECT_THROW(make_fft_plan(0), std::invalid_argument);
  EXPECT_NO_THROW(make_fft_plan(61 * 64));
}

TEST(SpectroStreamOpsTransposeConv, SamePaddingMatchesTheOfficialRule) {
  EXPECT_EQ(conv_transpose_same_pad(4, 2), 2);  // decoder_0/1 (4×4) and the 4×3 time axis
  EXPECT_EQ(conv_transpose_same_pad(3, 1), 1);  // 4×3 frequency axis
  EXPECT_EQ(conv_transpose_same_pad(6, 3), 4);  // 3×6
  EXPECT_EQ(conv_transpose_same_pad(3, 4), 2);  // stride > kernel − 1: kernel − 1
}

// A constant z = r·e^{iδ} in every frame: the output keeps magnitude r and its phase turns by
// δ per frame in every bin, from δ at the first heard frame; the
// phase carries over to the next call, and skipped frames change neither it nor the spectrum.
TEST(SpectroStreamOpsPhaseAccumulate, ConstantInputAdvancesByItsAngleEveryFrame) {
  const PhaseAccumulateShape s{16, 2, 5};
  const int bins = s.fft_size / 2;
  const float re = -0.6f, im = 0.35f;
  const double r = std::hypot(double{re}, double{im});
  const double delta = std::atan2(double{im}, double{re});
  std::vector<float> input;
  for (int i = 0; i < s.channels * s.frames * bins; ++i) input.insert(input.end(), {re, im});
  auto at = [&](const std::vector<float>& x, int c, int t, int k) {
    return std::complex<double>(x[((static_cast<std::size_t>(c) * s.frames + t) * bins + k) * 2],
                                x[((static_cast<std::size_t>(c) * s.frames + t) * bins + k) * 2 + 1]);
  };
  auto wrapped = [](double angle) { return std::remainder(angle, 2.0 * std::numbers::pi); };

  std::vector<double> phase(phase_accumulate_state_size(s), 0.0);
  std::vector<float> first = input;
  phase_accumulate(s, 2, phase.data(), first.data());
  std::vector<float> second = input;
  phase_accumulate(s, 0, phase.data(), second.data());
  const std::vector<double> after_second = phase;
  std::vector<float> skipped = input;
  phase_accumulate(s, s.frames, phase.data(), skipped.data());

  EXPECT_EQ(skipped, input);
  EXPECT_EQ(phase, after_second);
  for (int c = 0; c < s.channels; ++c) {
    for (int k = 0; k < bins; ++k) {
      for (int t = 0; t < 2; ++t) EXPECT_EQ(at(first, c, t, k), at(input, c, t, k)) << "skipped frame " << t;
      std::vector<std::complex<double>> heard;  // frames 2 … 4 of the first call, then all of the second
      for (int t = 2; t < s.frames; ++t) heard.push_back(at(first, c, t, k));
      for (int t = 0; t < s.frames; ++t) heard.push_back(at(second, c, t, k));
      EXPECT_NEAR(wrapped(std::arg(heard[0]) - delta), 0.0, 1e-6) << "bin " << k;
      for (std::size_t i = 0; i < heard.size(); ++i) {
        EXPECT_NEAR(std::abs(heard[i]), r, 1e-6) << "bin " << k << ", heard frame " << i;
        if (i > 0) {
          EXPECT_NEAR(wrapped(std::arg(heard[i]) - std::arg(heard[i - 1]) - delta), 0.0, 1e-6)
              << "bin " << k << ", heard frame " << i;
        }
      }
      const double state = phase[static_cast<std::size_t>(c) * bins + k];
      EXPECT_NEAR(wrapped(state - static_cast<double>(heard.size()) * delta), 0.0, 1e-9) << "bin " << k;
      EXPECT_LE(std::abs(state), std::numbers::pi) << "kept wrapped";
    }
  }
}

// One spectrum, held for two frames: magnitudes 1, 2, 1.5 around bin 2 and 0.1 elsewhere (one
// peak). Its parabola's vertex is at κ = 2.206695 bins (worked out by hand), so every bin is
// locked to ψ = π κ after the first frame and 2π κ after the second, bin k's phase ψ − π k,
// and the magnitudes are kept.
TEST(SpectroStreamOpsPeakPhase, EveryBinTurnsAtItsPeaksFrequency) {
  const PeakPhaseShape s{16, 1, 2};
  const std::vector<float> magnitudes{0.1f, 1.0f, 2.0f, 1.5f, 0.1f, 0.1f, 0.1f, 0.1f};
  std::vector<float> x;
  for (int t = 0; t < s.frames; ++t) {
    for (float m : magnitudes) x.insert(x.end(), {m, 0.0f});
  }
  std::vector<double> psi(peak_phase_state_size(s), 0.0);
  std::vector<float> scratch(peak_phase_scratch_size(s));
  peak_phase(s, 0, psi.data(), scratch.data(), x.data());
  constexpr double kKappa = 2.206695;
  const auto wrapped = [](double angle) { return std::remainder(angle, 2.0 * std::numbers::pi); };
  for (int t = 0; t < s.frames; ++t) {
    for (int k = 0; k < 8; ++k) {
      const std::complex<double> z(x[(t * 8 + k) * 2], x[(t * 8 + k) * 2 + 1]);
      EXPECT_NEAR(std::abs(z), magnitudes[k], 1e-6) << "frame " << t << ", bin " << k;
      EXPECT_NEAR(wrapped(std::arg(z) - ((t + 1) * kKappa - k) * std::numbers::pi), 0.0, 1e-5)
          << "frame " << t << ", bin " << k;
    }
  }
  for (double locked : psi) EXPECT_NEAR(wrapped(locked - 2 * kKappa * std::numbers::pi), 0.0, 1e-5);
}

// A flat spectrum has no peak: each bin turns at its own centre, π k per frame, so its phase
// is 0 after the first frame and π k after the second. Masked frames change nothing.
TEST(SpectroStreamOpsPeakPhase, WithoutPeaksEachBinTurnsAtItsCentre) {
  const PeakPhaseShape s{16, 2, 3};
  const std::vector<float> input(static_cast<std::size_t>(s.channels * s.frames * s.fft_size), 0.5f);  // (0.5, 0.5)
  std::vector<float> x = input;
  std::vector<double> psi(peak_phase_state_size(s), 0.0);
  std::vector<float> scratch(peak_phase_scratch_size(s));
  peak_phase(s, 1, psi.data(), scratch.data(), x.data());
  const double r = std::hypot(0.5, 0.5);
  for (int c = 0; c < s.channels; ++c) {
    for (int k = 0; k < 8; ++k) {
      const auto at = [&](int t) {
        const std::size_t i = ((static_cast<std::size_t>(c) * s.frames + t) * 8 + k) * 2;
        return std::complex<double>(x[i], x[i + 1]);
      };
      EXPECT_EQ(at(0), std::complex<double>(0.5, 0.5)) << "the masked frame";
      EXPECT_NEAR(std::abs(at(1) - std::complex<double>(r, 0.0)), 0.0, 1e-6) << "bin " << k;
      EXPECT_NEAR(std::abs(at(2) - std::polar(r, std::numbers::pi * k)), 0.0, 1e-6) << "bin " << k;
    }
  }
  const std::vector<double> kept = psi;
  std::vector<float> masked = input;
  peak_phase(s, s.frames, psi.data(), scratch.data(), masked.data());
  EXPECT_EQ(masked, input);
  EXPECT_EQ(psi, kept);
}

}  // namespace
}  // namespace continuo::kernels
