#pragma once

// The op cases of the kernel harness: a table of (op, shape, weight dtype) cases, each run on
// fixed-seed random inputs and compared with a deliberately naive double-precision reference
// written here. tests/unit/test_kernels.cpp checks every case's parity on every backend;
// bench/bench_kernels.cpp times Case::compute alone on the same cases (the perf mode).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.hpp"

namespace continuo::kernels::harness {

// ---- Backends ----------------------------------------------------------------------------

using LayerNormFn = decltype(&layer_norm);
using RmsNormFn = decltype(&rms_norm);
using DenseFn = decltype(&dense);
using DenseRowsFn = decltype(&dense_rows);
using SoftcapFn = decltype(&softcap);
using FfnFn = decltype(&ffn);
using KvRingPushFn = decltype(&kv_ring_push);
using AttendFn = decltype(&attend);
using EmbedTokenFn = decltype(&embed_token);
using EmbedMeanFn = decltype(&embed_mean);
using EmbedChannelsFn = decltype(&embed_channels);
using SampleUniformFn = decltype(&sample_uniform);
using SampleGumbelFn = decltype(&sample_gumbel);

// Host-pointer entry points of one backend (a device backend wraps its kernels with copies).
struct Backend {
  const char* name;
  LayerNormFn layer_norm;
  RmsNormFn rms_norm;
  DenseFn dense;
  DenseRowsFn dense_rows;
  SoftcapFn softcap;
  FfnFn ffn;
  KvRingPushFn kv_ring_push;
  AttendFn attend;
  EmbedTokenFn embed_token;
  EmbedMeanFn embed_mean;
  EmbedChannelsFn embed_channels;
  SampleUniformFn sample_uniform;
  SampleGumbelFn sample_gumbel;
};

inline const Backend kCpu{"cpu",         &layer_norm,   &rms_norm,   &dense,          &dense_rows,
                   &softcap,      &ffn,          &kv_ring_push, &attend,       &embed_token,
                   &embed_mean,   &embed_channels, &sample_uniform, &sample_gumbel};

inline std::vector<const Backend*> backends() { return {&kCpu}; }

// ---- Test data ---------------------------------------------------------------------------

using Rng = std::mt19937_64;

inline std::vector<float> uniform(Rng& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (float& v : out) v = dist(rng);
  return out;
}

inline std::uint16_t to_bf16(float value) {  // round to nearest even, as checkpoints are converted
  const auto bits = std::bit_cast<std::uint32_t>(value);
  return static_cast<std::uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// One weight tensor held both ways with the same values: bf16 bits, and fp32 copies of
// those (bf16-rounded) values, or plain fp32 values for an fp32 case.
struct Param {
  std::vector<float> f32;
  std::vector<std::uint16_t> bf16;

  WeightView view(DType dtype) const {
    if (f32.empty()) return {};
    if (dtype == DType::bf16) return {bf16.data(), DType::bf16, bf16.size()};
    return {f32.data(), DType::f32, f32.size()};
  }
  double operator[](std::size_t i) const { return f32[i]; }
};

inline Param param(Rng& rng, std::size_t n, DType dtype, float lo, float hi) {
  Param p{uniform(rng, n, lo, hi), {}};
  if (dtype == DType::bf16) {
    for (float& v : p.f32) {
      p.bf16.push_back(to_bf16(v));
      v = WeightView::bf16_to_f32(p.bf16.back());
    }
  }
  return p;
}

// max |y − ref| over max |ref|: an error relative to the output's scale, so a component
// that cancels to near zero does not blow up the measure.
inline double relative_error(const std::vector<float>& y, const std::vector<double>& ref) {
  if (y.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double worst = 0.0;
  double scale = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(y[i]) - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return worst / std::max(scale, 1e-30);
}

inline double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Bitwise: −0 vs +0 or NaNs count as different.
    if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
      worst = std::max(worst, std::max(std::abs(static_cast<double>(a[i]) - b[i]), 1e-45));
    }
  }
  return worst;
}

inline const char* dtype_name(DType dtype) { return dtype == DType::f32 ? "f32" : "bf16"; }

// ---- Cases -------------------------------------------------------------------------------

class Case {
 public:
  virtual ~Case() = default;
  virtual std::string name() const = 0;
  virtual void setup(Rng& rng) = 0;                   // inputs; not timed
  virtual void compute(const Backend& backend) = 0;  // the op only; what a benchmark times
  virtual double error() = 0;
  virtual double tolerance() const { return 1e-5; }
};

// reference: output vs the double reference. bf16_exact: the bf16-weight output vs the same
// op on fp32 weights holding the bf16-rounded values, which must agree bit for bit.
enum class Check { reference, bf16_exact };

// Ops that read weights: one op() for both dtypes, so the bf16 check reuses it.
class WeightedCase : public Case {
 public:
  WeightedCase(DType dtype, Check check)
      : dtype_(check == Check::bf16_exact ? DType::bf16 : dtype), check_(check) {}

  void compute(const Backend& backend) final {
    backend_ = &backend;
    op(backend, dtype_, out_);
  }
  double error() final {
    if (check_ == Check::reference) return relative_error(out_, reference());
    std::vector<float> rounded_f32;
    op(*backend_, DType::f32, rounded_f32);
    return max_abs_difference(out_, rounded_f32);
  }
  double tolerance() const final { return check_ == Check::bf16_exact ? 0.0 : 1e-5; }

 protected:
  virtual void op(const Backend& backend, DType dtype, std::vector<float>& out) = 0;
  virtual std::vector<double> reference() const = 0;
  std::string suffix() const {
    return check_ == Check::bf16_exact ? "_bf16_eq_f32" : std::string("_") + dtype_name(dtype_);
  }

  DType dtype_;
  Check check_;

 private:
  const Backend* backend_ = nullptr;
  std::vector<float> out_;
};

// -- norms --

class LayerNormCase : public WeightedCase {
 public:
  // spread: half-width of the inputs; a tiny one makes var ≈ eps, so eps itself is checked.
  LayerNormCase(std::size_t dim, bool with_bias, DType dtype, Check check = Check::reference,
                float spread = 4.0f)
      : WeightedCase(dtype, check), dim_(dim), with_bias_(with_bias), spread_(spread) {}
  std::string name() const override {
    return "layer_norm_d" + std::to_string(dim_) + (with_bias_ ? "_bias" : "") +
           (spread_ < 1.0f ? "_tiny_var" : "") + suffix();
  }
  void setup(Rng& rng) override {
    const float centre = spread_ / 4;  // nonzero mean, so centring matters
    x_ = uniform(rng, dim_, centre - spread_, centre + spread_);
    scale_ = param(rng, dim_, dtype_, 0.5f, 1.5f);
    if (with_bias_) bias_ = param(rng, dim_, dtype_, -1.0f, 1.0f);
  }

 private:
  void op(const Backend& b, DType dtype, std::vector<float>& out) override {
    out.resize(dim_);
    b.layer_norm({dim_, 1e-6f}, scale_.view(dtype), bias_.view(dtype), x_.data(), out.data());
  }
  std::vector<double> reference() const override {
    double mean = 0.0;
    for (float v : x_) mean += v;
    mean /= static_cast<double>(dim_);
    double var = 0.0;
    for (float v : x_) var += (v - mean) * (v - mean);
    var /= static_cast<double>(dim_);
    std::vector<double> y(dim_);
    for (std::size_t i = 0; i < dim_; ++i) {
      y[i] = (x_[i] - mean) / std::sqrt(var + 1e-6) * scale_[i] + (with_bias_ ? bias_[i] : 0.0);
    }
    return y;
  }

  std::size_t dim_;
  bool with_bias_;
  float spread_;
  std::vector<float> x_;
  Param scale_, bias_;
};

class RmsNormCase : public WeightedCase {
 public:
  RmsNormCase(std::size_t dim, DType dtype, Check check = Check::reference)
      : WeightedCase(dtype, check), dim_(dim) {}
  std::string name() const override { return "rms_norm_d" + std::to_string(dim_) + suffix(); }
  void setup(Rng& rng) override {
    x_ = uniform(rng, dim_, -2.0f, 3.0f);
    scale_ = param(rng, dim_, dtype_, 0.5f, 1.5f);
  }

 private:
  void op(const Backend& b, DType dtype, std::vector<float>& out) override {
    out.resize(dim_);
    b.rms_norm({dim_, 1e-6f}, scale_.view(dtype), x_.data(), out.data());
  }
  std::vector<double> reference() const override {
    double ms = 0.0;
    for (float v : x_) ms += static_cast<double>(v) * v;
    ms /= static_cast<double>(dim_);
    std::vector<double> y(dim_);
    for (std::size_t i = 0; i < dim_; ++i) y[i] = x_[i] / std::sqrt(ms + 1e-6) * scale_[i];
    return y;
  }

  std::size_t dim_;
  std::vector<float> x_;
  Param scale_;
};

// -- dense --

inline std::vector<double> naive_gemv(const Param& w, const Param& b, const std::vector<float>& x,
                               std::size_t begin, std::size_t end) {
  const std::size_t in = x.size();
  std::vector<double> y;
  for (std::size_t r = begin; r < end; ++r) {
    double sum = b.f32.empty() ? 0.0 : b[r];
    for (std::size_t i = 0; i < in; ++i) sum += w[r * in + i] * x[i];
    y.push_back(sum);
  }
  return y;
}

class DenseCase : public WeightedCase {
 public:
  // begin == end == 0: all rows through dense(); otherwise rows [begin, end) via dense_rows.
  DenseCase(std::size_t in, std::size_t out, bool with_bias, DType dtype,
            Check check = Check::reference, std::size_t begin = 0, std::size_t end = 0)
      : WeightedCase(dtype, check),
        shape_{in, out},
        with_bias_(with_bias),
        begin_(begin),
        end_(end) {}
  std::string name() const override {
    std::string n = "dense_in" + std::to_string(shape_.in) + "_out" + std::to_string(shape_.out);
    if (rows()) n += "_rows" + std::to_string(begin_) + "to" + std::to_string(end_);
    return n + (with_bias_ ? "_bias" : "") + suffix();
  }
  void setup(Rng& rng) override {
    const float bound = 1.0f / std::sqrt(static_cast<float>(shape_.in));
    w_ = param(rng, shape_.in * shape_.out, dtype_, -bound, bound);
    if (with_bias_) b_ = param(rng, shape_.out, dtype_, -0.5f, 0.5f);
    x_ = uniform(rng, shape_.in, -1.0f, 1.0f);
  }

 private:
  bool rows() const { return end_ != 0; }
  void op(const Backend& b, DType dtype, std::vector<float>& out) override {
    if (rows()) {
      out.resize(end_ - begin_);
      b.dense_rows(shape_, w_.view(dtype), b_.view(dtype), x_.data(), begin_, end_, out.data());
    } else {
      out.resize(shape_.out);
      b.dense(shape_, w_.view(dtype), b_.view(dtype), x_.data(), out.data());
    }
  }
  std::vector<double> reference() const override {
    return naive_gemv(w_, b_, x_, rows() ? begin_ : 0, rows() ? end_ : shape_.out);
  }

  DenseShape shape_;
  bool with_bias_;
  std::size_t begin_, end_;
  Param w_, b_;
  std::vector<float> x_;
};

// -- softcap (no weights) --

class SoftcapCase : public Case {
 public:
  SoftcapCase(std::size_t n, float cap) : shape_{n, cap} {}
  std::string name() const override {
    return "softcap_n" + std::to_string(shape_.n) + "_cap" + std::to_string(int(shape_.cap));
  }
  void setup(Rng& rng) override { x_ = uniform(rng, shape_.n, -4 * shape_.cap, 4 * shape_.cap); }
  void compute(const Backend& b) override {
    y_.resize(shape_.n);
    b.softcap(shape_, x_.data(), y_.data());
  }
  double error() override {
    std::vector<double> ref;
    for (float v : x_) ref.push_back(shape_.cap * std::tanh(static_cast<double>(v) / shape_.cap));
    return relative_error(y_, ref);
  }

 private:
  SoftcapShape shape_;
  std::vector<float> x_, y_;
};

// -- ffn --

inline double naive_activation(Activation a, double x) {
  switch (a) {
    case Activation::gelu_tanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
    case Activation::relu: return std::max(x, 0.0);
    case Activation::silu: return x / (1.0 + std::exp(-x));
  }
  return x;
}

inline const char* activation_name(Activation a) {
  switch (a) {
    case Activation::gelu_tanh: return "gelu";
    case Activation::relu: return "relu";
    case Activation::silu: return "silu";
  }
  return "?";
}

class FfnCase : public WeightedCase {
 public:
  FfnCase(FfnShape shape, DType dtype, Check check = Check::reference)
      : WeightedCase(dtype, check), shape_(shape) {}
  std::string name() const override {
    return std::string("ffn_") + (shape_.gated ? "gated_" : "") +
           activation_name(shape_.activation) + "_d" + std::to_string(shape_.model) + "_h" +
           std::to_string(shape_.hidden) + suffix();
  }
  void setup(Rng& rng) override {
    const std::size_t rows1 = ffn_scratch_size(shape_);
    const float bound1 = 2.0f / std::sqrt(static_cast<float>(shape_.model));
    const float bound2 = 1.0f / std::sqrt(static_cast<float>(shape_.hidden));
    w_.w1 = param(rng, rows1 * shape_.model, dtype_, -bound1, bound1);
    w_.b1 = param(rng, rows1, dtype_, -0.5f, 0.5f);
    w_.w2 = param(rng, shape_.model * shape_.hidden, dtype_, -bound2, bound2);
    w_.b2 = param(rng, shape_.model, dtype_, -0.5f, 0.5f);
    x_ = uniform(rng, shape_.model, -1.0f, 1.0f);
    scratch_.resize(rows1);
  }

 private:
  struct Params {
    Param w1, b1, w2, b2;
  };
  void op(const Backend& b, DType d, std::vector<float>& out) override {
    out.resize(shape_.model);
    const FfnWeights weights{w_.w1.view(d), w_.b1.view(d), w_.w2.view(d), w_.b2.view(d)};
    b.ffn(shape_, weights, x_.data(), scratch_.data(), out.data());
  }
  std::vector<double> reference() const override {
    const std::size_t rows1 = ffn_scratch_size(shape_);
    std::vector<double> h(rows1);
    for (std::size_t r = 0; r < rows1; ++r) {
      h[r] = w_.b1[r];
      for (std::size_t i = 0; i < shape_.model; ++i) h[r] += w_.w1[r * shape_.model + i] * x_[i];
    }
    std::vector<double> act(shape_.hidden);
    for (std::size_t i = 0; i < shape_.hidden; ++i) {
      act[i] = shape_.gated ? h[i] * naive_activation(shape_.activation, h[shape_.hidden + i])
                            : naive_activation(shape_.activation, h[i]);
    }
    std::vector<double> y(shape_.model);
    for (std::size_t r = 0; r < shape_.model; ++r) {
      y[r] = w_.b2[r];
      for (std::size_t i = 0; i < shape_.hidden; ++i) y[r] += w_.w2[r * shape_.hidden + i] * act[i];
    }
    return y;
  }

  FfnShape shape_;
  Params w_;
  std::vector<float> x_, scratch_;
};

// -- attention --

// Runs `steps` positions through a ring of `window` slots: push k_t, v_t, then attend q_t.
// More steps than slots exercises the wrap-around; the output is every step's context.
class AttentionCase : public WeightedCase {
 public:
  struct Shape {
    const char* kind;  // "self" or "cross": the same code path over a different ring
    std::size_t heads, dim, window, sinks, steps;
    bool per_dim_scale;
  };
  AttentionCase(Shape shape, DType dtype, Check check = Check::reference)
      : WeightedCase(dtype, check), s_(shape) {}
  std::string name() const override {
    return std::string("attention_") + s_.kind + "_h" + std::to_string(s_.heads) + "_d" +
           std::to_string(s_.dim) + "_w" + std::to_string(s_.window) + "_sinks" +
           std::to_string(s_.sinks) + "_steps" + std::to_string(s_.steps) +
           (s_.per_dim_scale ? "_pds" : "") + suffix();
  }
  void setup(Rng& rng) override {
    const std::size_t n = s_.steps * s_.heads * s_.dim;
    q_ = uniform(rng, n, -1.5f, 1.5f);
    k_ = uniform(rng, n, -1.5f, 1.5f);
    v_ = uniform(rng, n, -1.0f, 1.0f);
    sink_k_ = param(rng, s_.sinks * s_.heads * s_.dim, dtype_, -0.3f, 0.3f);
    sink_v_ = param(rng, s_.sinks * s_.heads * s_.dim, dtype_, -1.0f, 1.0f);
    if (s_.per_dim_scale) pds_ = param(rng, s_.dim, DType::f32, -1.0f, 1.0f);
    q_scale_.resize(s_.dim);
    query_scale(pds_.view(DType::f32), s_.dim, q_scale_.data());
    keys_.resize(kv_ring_floats(s_.window, s_.heads, s_.dim));
    values_.resize(keys_.size());
  }

 private:
  std::size_t stride() const { return s_.heads * s_.dim; }
  void op(const Backend& b, DType d, std::vector<float>& out) override {
    KvRing ring{keys_.data(), values_.data(), s_.window, s_.heads, s_.dim};
    const AttentionSinks sinks{sink_k_.view(d), sink_v_.view(d), s_.sinks};
    scratch_.resize(attend_scratch_size(ring, sinks));
    out.resize(s_.steps * stride());
    for (std::size_t t = 0; t < s_.steps; ++t) {
      b.kv_ring_push(ring, &k_[t * stride()], &v_[t * stride()]);
      b.attend(ring, sinks, &q_[t * stride()], q_scale_.data(), scratch_.data(),
               &out[t * stride()]);
    }
  }
  double naive_scale(std::size_t d) const {
    const double base = 1.0 / std::sqrt(static_cast<double>(s_.dim));
    if (!s_.per_dim_scale) return base;
    return 1.442695041 * base * std::log1p(std::exp(pds_[d]));
  }
  // Keys of step t: the sinks (unscaled query), then positions max(0, t−window+1) .. t.
  std::vector<double> reference() const override {
    std::vector<double> y(s_.steps * stride(), 0.0);
    for (std::size_t t = 0; t < s_.steps; ++t) {
      const std::size_t first = t + 1 > s_.window ? t + 1 - s_.window : 0;
      for (std::size_t h = 0; h < s_.heads; ++h) {
        const std::size_t qo = t * stride() + h * s_.dim;
        std::vector<double> logits;
        std::vector<std::function<double(std::size_t)>> value;
        for (std::size_t s = 0; s < s_.sinks; ++s) {
          const std::size_t so = (s * s_.heads + h) * s_.dim;
          double l = 0.0;
          for (std::size_t d = 0; d < s_.dim; ++d) l += q_[qo + d] * sink_k_[so + d];
          logits.push_back(l);
          value.push_back([this, so](std::size_t d) { return sink_v_[so + d]; });
        }
        for (std::size_t j = first; j <= t; ++j) {
          const std::size_t ko = j * stride() + h * s_.dim;
          double l = 0.0;
          for (std::size_t d = 0; d < s_.dim; ++d) l += q_[qo + d] * naive_scale(d) * k_[ko + d];
          logits.push_back(l);
          value.push_back([this, ko](std::size_t d) { return double{v_[ko + d]}; });
        }
        const double top = *std::max_element(logits.begin(), logits.end());
        double total = 0.0;
        for (double& l : logits) total += (l = std::exp(l - top));
        for (std::size_t j = 0; j < logits.size(); ++j) {
          for (std::size_t d = 0; d < s_.dim; ++d) y[qo + d] += logits[j] / total * value[j](d);
        }
      }
    }
    return y;
  }

  Shape s_;
  std::vector<float> q_, k_, v_, q_scale_, keys_, values_, scratch_;
  Param sink_k_, sink_v_, pds_;
};

// -- embeddings --

class EmbedTokenCase : public WeightedCase {
 public:
  EmbedTokenCase(EmbeddingShape shape, std::size_t tokens, bool mean, DType dtype,
                 Check check = Check::reference)
      : WeightedCase(dtype, check), shape_(shape), n_(tokens), mean_(mean) {}
  std::string name() const override {
    return std::string(mean_ ? "embed_mean" : "embed_token") + "_v" +
           std::to_string(shape_.vocab) + "_d" + std::to_string(shape_.dim) + "_n" +
           std::to_string(n_) + suffix();
  }
  void setup(Rng& rng) override {
    table_ = param(rng, shape_.vocab * shape_.dim, dtype_, -0.05f, 0.05f);
    std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(shape_.vocab) - 1);
    tokens_.clear();
    for (std::size_t i = 0; i < n_; ++i) tokens_.push_back(id(rng));
    tokens_.back() = static_cast<std::int32_t>(shape_.vocab) - 1;  // the last row is reachable
  }

 private:
  void op(const Backend& b, DType d, std::vector<float>& out) override {
    const float scale = embedding_scale(shape_.dim);
    if (mean_) {
      out.resize(shape_.dim);
      b.embed_mean(shape_, table_.view(d), tokens_.data(), n_, scale, out.data());
      return;
    }
    out.resize(n_ * shape_.dim);
    for (std::size_t i = 0; i < n_; ++i) {
      b.embed_token(shape_, table_.view(d), tokens_[i], scale, &out[i * shape_.dim]);
    }
  }
  std::vector<double> reference() const override {
    const double scale = std::sqrt(static_cast<double>(shape_.dim));
    std::vector<double> y(mean_ ? shape_.dim : n_ * shape_.dim, 0.0);
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t row = static_cast<std::size_t>(tokens_[i]) * shape_.dim;
      const std::size_t o = mean_ ? 0 : i * shape_.dim;
      for (std::size_t d = 0; d < shape_.dim; ++d) {
        y[o + d] += table_[row + d] * scale / (mean_ ? static_cast<double>(n_) : 1.0);
      }
    }
    return y;
  }

  EmbeddingShape shape_;
  std::size_t n_;
  bool mean_;
  Param table_;
  std::vector<std::int32_t> tokens_;
};

class EmbedChannelsCase : public WeightedCase {
 public:
  EmbedChannelsCase(MultiChannelShape shape, std::size_t per_channel_vocab, DType dtype,
                    Check check = Check::reference)
      : WeightedCase(dtype, check), shape_(shape), per_channel_(per_channel_vocab) {}
  std::string name() const override {
    return std::string("embed_channels_") +
           (shape_.reduction == ChannelReduction::mean ? "mean" : "sum") + "_c" +
           std::to_string(shape_.channels) + "_v" + std::to_string(per_channel_) + "_d" +
           std::to_string(shape_.dim) + "_reserved" + std::to_string(shape_.num_reserved) +
           suffix();
  }
  void setup(Rng& rng) override {
    const std::size_t rows = shape_.num_reserved + shape_.channels * per_channel_;
    table_ = param(rng, rows * shape_.dim, dtype_, -0.05f, 0.05f);
    offsets_.clear();
    for (std::size_t c = 0; c < shape_.channels; ++c) offsets_.push_back(c * per_channel_);
    // Ids span the reserved range too; a reserved id reads the shared rows, un-offset.
    const auto top = static_cast<std::int32_t>(shape_.num_reserved + per_channel_) - 1;
    std::uniform_int_distribution<std::int32_t> id(0, top);
    tokens_.clear();
    for (std::size_t c = 0; c < shape_.channels; ++c) tokens_.push_back(id(rng));
    tokens_.front() = 0;
    tokens_.back() = top;
  }

 private:
  void op(const Backend& b, DType d, std::vector<float>& out) override {
    out.resize(shape_.dim);
    b.embed_channels(shape_, table_.view(d), offsets_.data(), tokens_.data(), out.data());
  }
  std::vector<double> reference() const override {
    std::vector<double> y(shape_.dim, 0.0);
    for (std::size_t c = 0; c < shape_.channels; ++c) {
      const auto id = static_cast<std::size_t>(tokens_[c]);
      const std::size_t row = id < shape_.num_reserved ? id : id + offsets_[c];
      for (std::size_t d = 0; d < shape_.dim; ++d) y[d] += table_[row * shape_.dim + d];
    }
    if (shape_.reduction == ChannelReduction::mean) {
      for (double& v : y) v /= static_cast<double>(shape_.channels);
    }
    return y;
  }

  MultiChannelShape shape_;
  std::size_t per_channel_;
  Param table_;
  std::vector<std::size_t> offsets_;
  std::vector<std::int32_t> tokens_;
};

// -- sampling: the chosen indices must match a naive reference exactly --

// Indices sorted by (logit descending, index ascending); kept: ≥ the k-th largest logit.
inline std::vector<std::uint32_t> naive_top_k(const std::vector<float>& logits,
                                              std::size_t top_k) {
  std::vector<std::uint32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  const std::size_t k = top_k == 0 ? logits.size() : std::min(top_k, logits.size());
  const float threshold = logits[order[k - 1]];
  while (logits[order.back()] < threshold) order.pop_back();
  return order;
}

inline std::uint32_t naive_inverse_cdf(const std::vector<float>& logits, std::size_t top_k,
                                       double t, double u) {
  const auto kept = naive_top_k(logits, top_k);
  std::vector<double> p;
  for (std::uint32_t i : kept) p.push_back(std::exp((logits[i] - logits[kept[0]]) / t));
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  double cumulative = 0.0;
  for (std::size_t j = 0; j < kept.size(); ++j) {
    if (u * total < (cumulative += p[j])) return kept[j];
  }
  return kept.back();
}

inline std::uint32_t naive_gumbel_max(const std::vector<float>& logits, const float* g,
                                      std::size_t top_k, float t) {
  auto kept = naive_top_k(logits, top_k);
  std::sort(kept.begin(), kept.end());
  std::uint32_t best = kept[0];
  for (std::uint32_t i : kept) {
    const float noise = g[i] * t;  // float32, as the official sampler adds it
    const float best_noise = g[best] * t;
    if (logits[i] + noise > logits[best] + best_noise) best = i;
  }
  return best;
}

class SampleCase : public Case {
 public:
  SampleCase(std::size_t vocab, std::size_t top_k, float temperature, bool gumbel)
      : shape_{vocab, top_k, temperature}, gumbel_(gumbel) {}
  std::string name() const override {
    return std::string("sample_") + (gumbel_ ? "gumbel" : "uniform") + "_v" +
           std::to_string(shape_.vocab) + "_k" + std::to_string(shape_.top_k) + "_t" +
           std::to_string(int(shape_.temperature * 100));
  }
  void setup(Rng& rng) override {
    logits_ = uniform(rng, kDraws * shape_.vocab, -30.0f, 30.0f);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    u_.clear();
    for (std::size_t i = 0; i < kDraws; ++i) u_.push_back(unit(rng));
    gumbel_noise_.clear();
    for (std::size_t i = 0; i < kDraws * shape_.vocab; ++i) {
      gumbel_noise_.push_back(static_cast<float>(-std::log(-std::log(unit(rng) + 1e-12))));
    }
    scratch_.resize(sample_scratch_size(shape_));
  }
  void compute(const Backend& b) override {
    picked_.clear();
    for (std::size_t i = 0; i < kDraws; ++i) {
      const float* l = &logits_[i * shape_.vocab];
      picked_.push_back(gumbel_ ? b.sample_gumbel(shape_, l, &gumbel_noise_[i * shape_.vocab],
                                                  scratch_.data())
                                : b.sample_uniform(shape_, l, u_[i], scratch_.data()));
    }
  }
  double error() override {  // the number of draws that disagree
    double mismatches = 0;
    for (std::size_t i = 0; i < kDraws; ++i) {
      const std::vector<float> l(&logits_[i * shape_.vocab], &logits_[(i + 1) * shape_.vocab]);
      const std::uint32_t want =
          gumbel_ ? naive_gumbel_max(l, &gumbel_noise_[i * shape_.vocab], shape_.top_k,
                                     shape_.temperature)
                  : naive_inverse_cdf(l, shape_.top_k, shape_.temperature, u_[i]);
      mismatches += picked_[i] != want;
    }
    return mismatches;
  }
  double tolerance() const override { return 0.0; }

 private:
  static constexpr std::size_t kDraws = 64;
  SampleShape shape_;
  bool gumbel_;
  std::vector<float> logits_, gumbel_noise_;
  std::vector<double> u_;
  std::vector<std::uint32_t> scratch_, picked_;
};

// ---- The table ---------------------------------------------------------------------------

using Factory = std::function<std::unique_ptr<Case>()>;

template <typename C, typename... Args>
Factory make(Args... args) {
  return [=] { return std::make_unique<C>(args...); };
}

// Every op, MRT2's real shapes where they are cheap, odd shapes for the vector tails, and
// for each weighted op one bf16-exactness entry.
inline std::vector<Factory> cases() {
  constexpr DType f32 = DType::f32;
  constexpr DType bf16 = DType::bf16;
  constexpr Check exact = Check::bf16_exact;
  const std::size_t logits = 12 * 1024 + 7;  // the decoder vocabulary
  const std::size_t level3 = 6 + 3 * 1024;   // first id of RVQ level 3
  return {
      make<LayerNormCase>(768, true, f32),
      make<LayerNormCase>(1024, true, bf16),
      make<LayerNormCase>(100, false, f32),
      make<LayerNormCase>(768, true, bf16, exact),
      make<LayerNormCase>(256, true, f32, Check::reference, 2e-3f),
      make<RmsNormCase>(1024, f32),
      make<RmsNormCase>(3072, bf16),
      make<RmsNormCase>(37, f32),
      make<RmsNormCase>(256, bf16, exact),
      make<DenseCase>(1024, 768, false, f32),  // depth_input_adapter, mrt2_small
      make<DenseCase>(768, 3072, true, bf16),
      make<DenseCase>(100, 33, true, f32),  // tails: in % 16 != 0
      make<DenseCase>(1, 5, true, f32),
      make<DenseCase>(256, logits, true, f32, Check::reference, level3, level3 + 1024),
      make<DenseCase>(256, logits, true, bf16, Check::reference, logits - 1024, logits),
      make<DenseCase>(100, 300, true, bf16, exact),
      make<DenseCase>(256, logits, true, bf16, exact, level3, level3 + 1024),
      make<SoftcapCase>(1031, 30.0f),
      make<SoftcapCase>(17, 5.0f),
      make<FfnCase>(FfnShape{256, 1024, false, Activation::gelu_tanh}, f32),  // encoder S
      make<FfnCase>(FfnShape{768, 3072, false, Activation::gelu_tanh}, bf16),  // depth M
      make<FfnCase>(FfnShape{96, 200, true, Activation::gelu_tanh}, f32),
      make<FfnCase>(FfnShape{64, 128, false, Activation::relu}, f32),
      make<FfnCase>(FfnShape{64, 128, true, Activation::silu}, bf16),
      make<FfnCase>(FfnShape{96, 200, true, Activation::gelu_tanh}, bf16, exact),
      make<FfnCase>(FfnShape{1024, 4096, false, Activation::gelu_tanh}, bf16),  // temporal S, depth B
      // temporal self-attention, mrt2_small: 8 heads × 128, horizon 41 → 42 slots, 1 sink
      make<AttentionCase>(AttentionCase::Shape{"self", 8, 128, 42, 1, 100, true}, f32),
      make<AttentionCase>(AttentionCase::Shape{"self", 8, 128, 42, 1, 100, true}, bf16),
      // cross-attention over the encoder-output ring, mrt2_base horizon 25 → 26 slots
      make<AttentionCase>(AttentionCase::Shape{"cross", 4, 128, 26, 1, 60, true}, f32),
      make<AttentionCase>(AttentionCase::Shape{"self", 3, 16, 4, 2, 11, false}, f32),
      // depth decoder: 6 heads × 128, 12 levels in 13 slots, no sink
      make<AttentionCase>(AttentionCase::Shape{"depth", 6, 128, 13, 0, 12, true}, f32),
      // mrt2_base: temporal 24 heads × 128, horizon 25 → 26 slots, 1 sink; depth 8 × 128
      make<AttentionCase>(AttentionCase::Shape{"self", 24, 128, 26, 1, 40, true}, bf16),
      make<AttentionCase>(AttentionCase::Shape{"depth", 8, 128, 13, 0, 12, true}, f32),
      make<AttentionCase>(AttentionCase::Shape{"self", 2, 32, 5, 1, 13, true}, bf16, exact),
      make<EmbedTokenCase>(EmbeddingShape{2 * 1024 + 7, 768}, 11, false, f32),
      make<EmbedTokenCase>(EmbeddingShape{2 * 1024 + 7, 1024}, 12, true, bf16),
      make<EmbedTokenCase>(EmbeddingShape{300, 64}, 12, true, bf16, exact),
      // regular conditioning branch: 128 notes + 1 drum + 3 CFG channels, mean
      make<EmbedChannelsCase>(MultiChannelShape{132, 256, 0, ChannelReduction::mean}, 11, f32),
      make<EmbedChannelsCase>(MultiChannelShape{12, 64, 0, ChannelReduction::sum}, 1031, bf16),
      make<EmbedChannelsCase>(MultiChannelShape{7, 32, 6, ChannelReduction::mean}, 20, f32),
      make<EmbedChannelsCase>(MultiChannelShape{7, 32, 6, ChannelReduction::sum}, 20, bf16,
                              exact),
      make<SampleCase>(1024, 40, 1.1f, false),
      make<SampleCase>(1024, 0, 1.0f, false),
      make<SampleCase>(1024, 1, 1.0f, false),
      make<SampleCase>(1024, 40, 1.3f, true),
      make<SampleCase>(1024, 0, 0.7f, true),
  };
}

// FNV-1a of the case name: each case's inputs are fixed, whatever the table's order.
inline std::uint64_t seed_of(const std::string& name) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

}  // namespace continuo::kernels::harness
