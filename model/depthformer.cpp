#include "model/depthformer.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace continuo::model {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// step()'s sampler: seeded draws keyed by (seed, frame, level), never by call order.
class SeededPicker final : public LevelPicker {
 public:
  SeededPicker(const SamplingParams& params, std::size_t codebook, std::uint64_t frame,
               std::uint32_t* scratch)
      : params_(params), codebook_(codebook), frame_(frame), scratch_(scratch) {}

  std::uint32_t pick(std::size_t level, std::span<const float> capped) override {
    const kernels::SampleShape shape{
        codebook_, static_cast<std::size_t>(std::max(0, params_.top_k)), params_.temperature};
    const kernels::SampleKey key{params_.seed, frame_, static_cast<std::uint32_t>(level)};
    return kernels::sample_seeded(shape, capped.data(), key, scratch_);
  }

 private:
  const SamplingParams& params_;
  std::size_t codebook_;
  std::uint64_t frame_;
  std::uint32_t* scratch_;
};

}  // namespace

Depthformer::Depthformer(const ModelPackage& package)
    : Depthformer(package, WeightBinder(package)) {}

Depthformer::Depthformer(const ModelPackage& package, WeightBinder&& binder)
    : config_(DepthformerConfig::from_manifest(package.manifest(), package.dir())),
      encoder_(binder, config_),
      embedding_scale_(kernels::embedding_scale(config_.temporal.dims)),
      temporal_x_(config_.temporal.dims),
      depth_input_(config_.temporal.dims),
      depth_x_(config_.depth.dims),
      logits_(config_.codebook),
      capped_(config_.codebook),
      sample_scratch_(kernels::sample_scratch_size({config_.codebook, 0, 1.0f})) {
  const StackConfig& t = config_.temporal;
  const StackConfig& d = config_.depth;
  weights_.token_embedding = binder.bind("token_embedding", {config_.vocab, t.dims});
  weights_.temporal.reserve(t.layers);
  for (std::size_t i = 0; i < t.layers; ++i) {
    const std::string prefix = "temporal.layers." + std::to_string(i) + ".";
    weights_.temporal.push_back({AttentionLayer(binder, prefix + "self_attn.", t, t.dims),
                         AttentionLayer(binder, prefix + "cross_attn.", t, config_.encoder_dims),
                         FfnLayer(binder, prefix + "ffn.", t)});
    self_caches_.emplace_back(t.horizon, t.heads, t.head_dims);
    cross_caches_.emplace_back(t.cross_horizon, t.heads, t.head_dims);
  }
  if (config_.has_depth_adapter()) {
    weights_.depth_adapter = binder.bind("depth.adapter", {d.dims, t.dims});
  }
  weights_.depth.reserve(d.layers);
  for (std::size_t i = 0; i < d.layers; ++i) {
    const std::string prefix = "depth.layers." + std::to_string(i) + ".";
    weights_.depth.push_back({AttentionLayer(binder, prefix + "self_attn.", d, d.dims),
                      FfnLayer(binder, prefix + "ffn.", d)});
    depth_caches_.emplace_back(d.horizon, d.heads, d.head_dims);
  }
  weights_.final_norm_scale = binder.bind("depth.final_norm.scale", {d.dims});
  weights_.final_norm_bias = binder.bind("depth.final_norm.bias", {d.dims});
  weights_.logits_weight = binder.bind("depth.logits.w", {config_.vocab, d.dims});
  weights_.logits_bias = binder.bind("depth.logits.b", {config_.vocab});
  binder.check();
  specs_ = binder.specs();

  for (std::size_t i = 0; i < t.layers; ++i) {
    scratch_.reserve_for(weights_.temporal[i].self_attention, self_caches_[i]);
    scratch_.reserve_for(weights_.temporal[i].cross_attention, cross_caches_[i]);
    scratch_.reserve_for(weights_.temporal[i].ffn);
  }
  for (std::size_t i = 0; i < d.layers; ++i) {
    scratch_.reserve_for(weights_.depth[i].self_attention, depth_caches_[i]);
    scratch_.reserve_for(weights_.depth[i].ffn);
  }
  reset();
}

void Depthformer::reset() {
  for (auto* caches : {&self_caches_, &cross_caches_, &depth_caches_}) {
    for (auto& cache : *caches) kernels::kv_ring_clear(cache.ring);
  }
  previous_ids_.fill(config_.sos_id);
  frame_ = 0;
}

FrameCodes Depthformer::step(const FrameConditioning& conditioning, const SamplingParams& params) {
  SeededPicker picker(params, config_.codebook, frame_, sample_scratch_.data());
  return step_traced(conditioning, picker);
}

FrameCodes Depthformer::step_traced(const FrameConditioning& conditioning, LevelPicker& picker,
                                    DepthformerObserver* observer) {
  encode(conditioning, observer);
  temporal_step(observer);
  return depth_step(picker, observer);
}

void Depthformer::encode(const FrameConditioning& conditioning, DepthformerObserver* observer) {
  const auto start = Clock::now();
  encoder_.encode(conditioning);
  const float* output = encoder_.output().data();
  for (std::size_t i = 0; i < weights_.temporal.size(); ++i) {
    push_kv(weights_.temporal[i].cross_attention, cross_caches_[i], output, scratch_);
  }
  if (observer != nullptr) observer->encoder_output(encoder_.output());
  stages_[0].ms = ms_since(start);
}

void Depthformer::set_previous(const FrameCodes& codes) {
  for (std::size_t level = 0; level < kLmLevels; ++level) {
    if (codes[level] < 0 || static_cast<std::size_t>(codes[level]) >= config_.codebook) {
      throw std::out_of_range("level " + std::to_string(level) + " code " +
                              std::to_string(codes[level]) + " outside 0.." +
                              std::to_string(config_.codebook - 1));
    }
    previous_ids_[level] = static_cast<std::int32_t>(config_.level_begin(level)) + codes[level];
  }
}

void Depthformer::temporal_step(DepthformerObserver* observer) {
  using Block = DepthformerObserver::Block;
  const auto start = Clock::now();
  float* x = temporal_x_.data();
  kernels::embed_mean({config_.vocab, config_.temporal.dims}, weights_.token_embedding,
                      previous_ids_.data(), kLmLevels, embedding_scale_, x);
  const std::span<const float> view(temporal_x_);
  for (std::size_t i = 0; i < weights_.temporal.size(); ++i) {
    const DepthformerWeights::TemporalLayer& layer = weights_.temporal[i];
    attention_block(layer.self_attention, self_caches_[i], true, config_.norm_eps, x, scratch_);
    if (observer != nullptr) observer->temporal_block(i, Block::self_attention, view);
    attention_block(layer.cross_attention, cross_caches_[i], false, config_.norm_eps, x, scratch_);
    if (observer != nullptr) observer->temporal_block(i, Block::cross_attention, view);
    ffn_block(layer.ffn, config_.norm_eps, x, scratch_);
    if (observer != nullptr) observer->temporal_block(i, Block::ffn, view);
  }
  if (observer != nullptr) observer->temporal_output(view);
  stages_[1].ms = ms_since(start);
}

void Depthformer::run_depth_layers(std::size_t level, DepthformerObserver* observer) {
  for (std::size_t i = 0; i < weights_.depth.size(); ++i) {
    attention_block(weights_.depth[i].self_attention, depth_caches_[i], true, config_.norm_eps,
                    depth_x_.data(), scratch_);
    ffn_block(weights_.depth[i].ffn, config_.norm_eps, depth_x_.data(), scratch_);
    if (observer != nullptr) observer->depth_layer(level, i, depth_x_);
  }
}

FrameCodes Depthformer::depth_step(LevelPicker& picker, DepthformerObserver* observer) {
  const auto start = Clock::now();
  const std::size_t dt = config_.temporal.dims;
  const std::size_t dd = config_.depth.dims;
  // The depth decoder's state starts afresh every frame: level r sees levels 0..r only.
  for (auto& cache : depth_caches_) kernels::kv_ring_clear(cache.ring);
  const float* input = temporal_x_.data();
  FrameCodes codes{};
  for (std::size_t level = 0; level < kLmLevels; ++level) {
    if (config_.has_depth_adapter()) {
      kernels::dense({dt, dd}, weights_.depth_adapter, {}, input, depth_x_.data());
    } else {
      std::copy_n(input, dd, depth_x_.data());
    }
    if (observer != nullptr) observer->depth_adapter(level, depth_x_);
    run_depth_layers(level, observer);
    kernels::layer_norm({dd, config_.norm_eps}, weights_.final_norm_scale,
                        weights_.final_norm_bias, depth_x_.data(), depth_x_.data());
    if (observer != nullptr) observer->depth_final_norm(level, depth_x_);
    const std::size_t begin = config_.level_begin(level);
    kernels::dense_rows({dd, config_.vocab}, weights_.logits_weight, weights_.logits_bias,
                        depth_x_.data(), begin, begin + config_.codebook, logits_.data());
    if (observer != nullptr) observer->logits(level, logits_);
    kernels::softcap({config_.codebook, config_.logit_soft_cap}, logits_.data(), capped_.data());
    const std::uint32_t code = picker.pick(level, capped_);
    if (code >= config_.codebook) {
      throw std::out_of_range("picked code " + std::to_string(code) + " outside the codebook");
    }
    codes[level] = static_cast<int>(code);
    previous_ids_[level] = static_cast<std::int32_t>(begin + code);
    kernels::embed_token({config_.vocab, dt}, weights_.token_embedding, previous_ids_[level],
                         embedding_scale_, depth_input_.data());
    input = depth_input_.data();
  }
  ++frame_;
  stages_[2].ms = ms_since(start);
  return codes;
}

}  // namespace continuo::model
