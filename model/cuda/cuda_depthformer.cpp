#include "model/cuda/cuda_depthformer.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <stdexcept>

#include "kernels/attention/attention_cuda.hpp"
#include "kernels/dense/dense_cuda.hpp"
#include "kernels/embedding/embedding_cuda.hpp"
#include "kernels/layer_norm/layer_norm_cuda.hpp"
#include "kernels/sample/sample_cuda.hpp"
#include "model/cuda/cuda_layers.hpp"
#include "model/cuda/frame_ops_cuda.hpp"
#include "model/cuda/graph_stream.hpp"

namespace continuo::model::cuda {
namespace {

constexpr std::size_t kRegularChannels = ConditioningEncoder::kRegularChannels;

// Everything the host sets per frame, written into pinned memory and copied to the device by
// the frame's first node (so the graph reads new values at every replay).
struct FrameControl {
  kc::SampleControl sample;
  std::int32_t style_ids[kStyleTokens] = {};
  std::int32_t regular_ids[kRegularChannels] = {};
  LevelForcing forcing;
};

// What the frame's last node copies back into pinned memory.
struct FrameResult {
  std::uint32_t codes[kLmLevels] = {};    // the frame's codes (forced or sampled)
  std::uint32_t sampled[kLmLevels] = {};  // the sampler's draws
};

std::size_t max_of(std::initializer_list<std::size_t> values) { return std::max(values); }

// The widest FFN's scratch over both stacks.
std::size_t ffn_scratch_floats(const DepthformerWeights& weights) {
  std::size_t floats = 0;
  for (const auto& layer : weights.temporal) {
    floats = std::max(floats, kernels::ffn_scratch_size(layer.ffn.shape));
  }
  for (const auto& layer : weights.depth) {
    floats = std::max(floats, kernels::ffn_scratch_size(layer.ffn.shape));
  }
  return floats;
}

}  // namespace

struct CudaDepthformer::Device {
  struct TemporalLayer {
    DeviceAttentionLayer self_attention, cross_attention;
    DeviceFfnLayer ffn;
  };
  struct DepthLayer {
    DeviceAttentionLayer self_attention;
    DeviceFfnLayer ffn;
  };

  explicit Device(const Depthformer& cpu);
  void enqueue_frame();
  void enqueue_prefill_frame();
  void encode();
  void temporal_step();
  void depth_step();
  void stage_control(const FrameConditioning& conditioning, const SamplingParams& params,
                     const FrameCodes* forced);
  FrameCodes run(const FrameConditioning& conditioning, const SamplingParams& params,
                 const FrameCodes* forced, Launch launch);
  FrameCodes finish();

  const Depthformer& host;  // the CPU twin: configuration, weight views, conditioning checks
  const DepthformerConfig& config;
  DeviceWeights weights;
  kc::DeviceWeightView style_table, style_adapter, regular_table, encoder_scale, encoder_bias;
  const std::size_t* style_offsets = nullptr;
  const std::size_t* regular_offsets = nullptr;
  kc::DeviceWeightView token_embedding, depth_adapter;
  std::vector<TemporalLayer> temporal;
  std::vector<DepthLayer> depth;
  kc::DeviceWeightView final_norm_scale, final_norm_bias, logits_weight, logits_bias;
  float embedding_scale;

  std::vector<DeviceKvCache> self_caches, cross_caches, depth_caches;
  DeviceBlockScratch scratch;
  kc::DeviceBuffer<float> style_sum, style, regular, encoder_output;
  kc::DeviceBuffer<float> temporal_x, depth_input, depth_x, logits;
  kc::DeviceBuffer<std::int32_t> previous_ids;  // full ids: the next temporal input
  kc::DeviceBuffer<FrameControl> control;
  kc::DeviceBuffer<FrameResult> result;
  Pinned<FrameControl> staged_control;
  Pinned<FrameResult> staged_result;

  Stream owned_stream;
  cudaStream_t stream = nullptr;  // owned_stream's
  GraphExec frame_graph, prefill_graph;
  std::uint64_t frame = 0;
};

std::string CudaDepthformer::unsupported_reason(const DepthformerConfig& config) {
  if (config.codebook > kc::kMaxSampleVocab) {
    return "codebook " + std::to_string(config.codebook) + " > the device sampler's " +
           std::to_string(kc::kMaxSampleVocab);
  }
  for (const StackConfig* stack : {&config.temporal, &config.depth}) {
    if (stack->head_dims > kc::kMaxAttentionDim) {
      return "head_dims " + std::to_string(stack->head_dims) + " > the attention kernel's " +
             std::to_string(kc::kMaxAttentionDim);
    }
  }
  return {};
}

CudaDepthformer::Device::Device(const Depthformer& cpu)
    : host(cpu),
      config(host.config()),
      embedding_scale(kernels::embedding_scale(config.temporal.dims)),
      scratch(max_of({config.temporal.dims, config.depth.dims, config.encoder_dims}),
              std::max(config.temporal.heads * config.temporal.head_dims,
                       config.depth.heads * config.depth.head_dims),
              ffn_scratch_floats(host.weights())),
      style_sum(config.style_dims),
      style(config.encoder_dims),
      regular(config.encoder_dims),
      encoder_output(config.encoder_dims),
      temporal_x(config.temporal.dims),
      depth_input(config.temporal.dims),
      depth_x(config.depth.dims),
      logits(static_cast<std::size_t>(kLmLevels) * config.codebook),
      previous_ids(kLmLevels),
      control(1),
      result(1) {
  const ConditioningEncoder& encoder = host.encoder();
  style_table = weights.upload(encoder.weights().style_table);
  style_adapter = weights.upload(encoder.weights().style_adapter);
  regular_table = weights.upload(encoder.weights().regular_table);
  encoder_scale = weights.upload(encoder.weights().norm_scale);
  encoder_bias = weights.upload(encoder.weights().norm_bias);
  style_offsets = weights.upload(encoder.style_offsets());
  regular_offsets = weights.upload(encoder.regular_offsets());
  const DepthformerWeights& w = host.weights();
  token_embedding = weights.upload(w.token_embedding);
  depth_adapter = weights.upload(w.depth_adapter);
  final_norm_scale = weights.upload(w.final_norm_scale);
  final_norm_bias = weights.upload(w.final_norm_bias);
  logits_weight = weights.upload(w.logits_weight);
  logits_bias = weights.upload(w.logits_bias);
  const StackConfig& t = config.temporal;
  const StackConfig& d = config.depth;
  for (const auto& layer : w.temporal) {
    temporal.push_back({DeviceAttentionLayer(layer.self_attention, weights),
                        DeviceAttentionLayer(layer.cross_attention, weights),
                        DeviceFfnLayer(layer.ffn, weights)});
    self_caches.emplace_back(t.horizon, t.heads, t.head_dims);
    cross_caches.emplace_back(t.cross_horizon, t.heads, t.head_dims);
  }
  for (const auto& layer : w.depth) {
    depth.push_back(
        {DeviceAttentionLayer(layer.self_attention, weights), DeviceFfnLayer(layer.ffn, weights)});
    depth_caches.emplace_back(d.horizon, d.heads, d.head_dims);
  }
  logits.fill_bytes(0xFF);  // NaN until written: a level a frame skips fails the parity test
  owned_stream = make_stream();
  stream = owned_stream.get();
  // Captured once: every replay reads the control block, ring positions and ids then in
  // device memory.
  frame_graph = capture(stream, [this] { enqueue_frame(); });
  prefill_graph = capture(stream, [this] { enqueue_prefill_frame(); });
}

void CudaDepthformer::Device::enqueue_frame() {
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(control.data(), staged_control.get(), sizeof(FrameControl),
                                      cudaMemcpyHostToDevice, stream));
  encode();
  temporal_step();
  depth_step();
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(staged_result.get(), result.data(), sizeof(FrameResult),
                                      cudaMemcpyDeviceToHost, stream));
}

// A prefill frame: the forced codes become the decoder input, then encode and temporal step.
void CudaDepthformer::Device::enqueue_prefill_frame() {
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(control.data(), staged_control.get(), sizeof(FrameControl),
                                      cudaMemcpyHostToDevice, stream));
  FrameResult* r = result.data();
  for (std::uint32_t level = 0; level < static_cast<std::uint32_t>(kLmLevels); ++level) {
    commit_code(stream, &control.data()->forcing, level,
                static_cast<std::int32_t>(config.level_begin(level)), &r->sampled[level],
                r->codes, previous_ids.data());
  }
  encode();
  temporal_step();
}

// ConditioningEncoder::encode, then the cross-attention K/V of every temporal layer.
void CudaDepthformer::Device::encode() {
  const std::size_t de = config.encoder_dims;
  const FrameControl* c = control.data();
  kc::embed_channels(stream, {kStyleTokens, config.style_dims, 0, kernels::ChannelReduction::sum},
                     style_table, style_offsets, c->style_ids, style_sum.data());
  kc::dense(stream, {config.style_dims, de}, style_adapter, {}, style_sum.data(), style.data());
  kc::embed_channels(stream, {kRegularChannels, de, 0, kernels::ChannelReduction::mean},
                     regular_table, regular_offsets, c->regular_ids, regular.data());
  mean_of_two(stream, style.data(), regular.data(), encoder_output.data(), de);
  kc::layer_norm(stream, {de, config.norm_eps}, encoder_scale, encoder_bias,
                 encoder_output.data(), encoder_output.data());
  for (std::size_t i = 0; i < temporal.size(); ++i) {
    push_kv(stream, temporal[i].cross_attention, cross_caches[i], encoder_output.data(), scratch);
  }
}

void CudaDepthformer::Device::temporal_step() {
  float* x = temporal_x.data();
  kc::embed_mean(stream, {config.vocab, config.temporal.dims}, token_embedding,
                 previous_ids.data(), kLmLevels, embedding_scale, x);
  for (std::size_t i = 0; i < temporal.size(); ++i) {
    attention_block(stream, temporal[i].self_attention, self_caches[i], true, config.norm_eps, x,
                    scratch);
    attention_block(stream, temporal[i].cross_attention, cross_caches[i], false, config.norm_eps,
                    x, scratch);
    ffn_block(stream, temporal[i].ffn, config.norm_eps, x, scratch);
  }
}

void CudaDepthformer::Device::depth_step() {
  const std::size_t dt = config.temporal.dims;
  const std::size_t dd = config.depth.dims;
  const std::size_t codebook = config.codebook;
  for (const auto& cache : depth_caches) kc::kv_ring_clear(stream, cache.ring);
  const float* input = temporal_x.data();
  for (std::size_t level = 0; level < static_cast<std::size_t>(kLmLevels); ++level) {
    if (config.has_depth_adapter()) {
      kc::dense(stream, {dt, dd}, depth_adapter, {}, input, depth_x.data());
    } else {
      CONTINUO_CUDA_CHECK(cudaMemcpyAsync(depth_x.data(), input, dd * sizeof(float),
                                          cudaMemcpyDeviceToDevice, stream));
    }
    for (std::size_t i = 0; i < depth.size(); ++i) {
      attention_block(stream, depth[i].self_attention, depth_caches[i], true, config.norm_eps,
                      depth_x.data(), scratch);
      ffn_block(stream, depth[i].ffn, config.norm_eps, depth_x.data(), scratch);
    }
    kc::layer_norm(stream, {dd, config.norm_eps}, final_norm_scale, final_norm_bias,
                   depth_x.data(), depth_x.data());
    const std::size_t begin = config.level_begin(level);
    float* level_logits = logits.data() + level * codebook;
    kc::dense_rows(stream, {dd, config.vocab}, logits_weight, logits_bias, depth_x.data(), begin,
                   begin + codebook, level_logits);
    // The soft cap is fused into the sampler; the draw is level-relative ...
    const auto lvl = static_cast<std::uint32_t>(level);
    FrameResult* r = result.data();
    kc::sample_seeded(stream, codebook, &control.data()->sample, lvl, level_logits,
                      &r->sampled[level]);
    // ... and becomes the full id the embeddings read (kernels' sample note, docs/cuda.md).
    commit_code(stream, &control.data()->forcing, lvl, static_cast<std::int32_t>(begin),
                &r->sampled[level], r->codes, previous_ids.data());
    kc::embed_token(stream, {config.vocab, dt}, token_embedding, previous_ids.data() + level,
                    embedding_scale, depth_input.data());
    input = depth_input.data();
  }
}

void CudaDepthformer::Device::stage_control(const FrameConditioning& conditioning,
                                            const SamplingParams& params,
                                            const FrameCodes* forced) {
  const ConditioningEncoder::Ids ids = host.encoder().ids(conditioning);
  FrameControl& c = *staged_control.get();
  c.sample = {params.seed, frame, params.temperature,
              static_cast<std::uint32_t>(std::max(0, params.top_k)), config.logit_soft_cap, 0};
  std::copy(ids.style.begin(), ids.style.end(), c.style_ids);
  std::copy(ids.regular.begin(), ids.regular.end(), c.regular_ids);
  c.forcing.force = forced != nullptr ? 1 : 0;
  for (std::size_t level = 0; level < static_cast<std::size_t>(kLmLevels); ++level) {
    const int code = forced != nullptr ? (*forced)[level] : 0;
    if (code < 0 || static_cast<std::size_t>(code) >= config.codebook) {
      throw std::out_of_range("forced level " + std::to_string(level) + " code " +
                              std::to_string(code) + " outside the codebook");
    }
    c.forcing.codes[level] = code;
  }
}

FrameCodes CudaDepthformer::Device::run(const FrameConditioning& conditioning,
                                        const SamplingParams& params, const FrameCodes* forced,
                                        Launch launch) {
  stage_control(conditioning, params, forced);
  if (launch == Launch::graph) {
    CONTINUO_CUDA_CHECK(cudaGraphLaunch(frame_graph.get(), stream));
  } else {
    enqueue_frame();
  }
  // The generator waits on this runtime's stream only: the staged values may change again.
  CONTINUO_CUDA_CHECK(cudaStreamSynchronize(stream));
  return finish();
}

FrameCodes CudaDepthformer::Device::finish() {
  ++frame;
  FrameCodes codes{};
  for (std::size_t level = 0; level < codes.size(); ++level) {
    codes[level] = static_cast<int>(staged_result.get()->codes[level]);
  }
  return codes;
}

CudaDepthformer::CudaDepthformer(const Depthformer& host) {
  const std::string reason = unsupported_reason(host.config());
  if (!reason.empty()) throw std::invalid_argument("CUDA Depthformer: " + reason);
  require_device();
  device_ = std::make_unique<Device>(host);
  reset();
}

CudaDepthformer::~CudaDepthformer() = default;

const DepthformerConfig& CudaDepthformer::config() const { return device_->config; }

FrameCodes CudaDepthformer::step(const FrameConditioning& conditioning,
                                 const SamplingParams& params, Launch launch) {
  return device_->run(conditioning, params, nullptr, launch);
}

FrameCodes CudaDepthformer::step_forced(const FrameConditioning& conditioning,
                                        const SamplingParams& params, const FrameCodes& forced,
                                        Launch launch) {
  return device_->run(conditioning, params, &forced, launch);
}

void CudaDepthformer::stage_step(const FrameConditioning& conditioning, const SamplingParams& params) {
  device_->stage_control(conditioning, params, nullptr);
}

void CudaDepthformer::enqueue_step() { device_->enqueue_frame(); }

FrameCodes CudaDepthformer::finish_step() { return device_->finish(); }

cudaStream_t CudaDepthformer::stream() const { return device_->stream; }

const std::uint32_t* CudaDepthformer::device_codes() const { return device_->result.data()->codes; }

void CudaDepthformer::reset() {
  Device& d = *device_;
  for (auto* caches : {&d.self_caches, &d.cross_caches, &d.depth_caches}) {
    for (const auto& cache : *caches) kc::kv_ring_clear(d.stream, cache.ring);
  }
  std::array<std::int32_t, kLmLevels> sos{};
  sos.fill(d.config.sos_id);
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(d.previous_ids.data(), sos.data(), sizeof(sos),
                                      cudaMemcpyHostToDevice, d.stream));
  CONTINUO_CUDA_CHECK(cudaStreamSynchronize(d.stream));
  d.frame = 0;
}

void CudaDepthformer::prefill(const FrameConditioning& conditioning, const FrameCodes& codes,
                              int frames) {
  Device& d = *device_;
  d.stage_control(conditioning, {}, &codes);
  // The staged control stays put for every replay: one wait at the end.
  for (int frame = 0; frame < frames; ++frame) {
    CONTINUO_CUDA_CHECK(cudaGraphLaunch(d.prefill_graph.get(), d.stream));
  }
  CONTINUO_CUDA_CHECK(cudaStreamSynchronize(d.stream));
}

std::uint64_t CudaDepthformer::frame() const { return device_->frame; }

std::vector<float> CudaDepthformer::last_logits() const {
  std::vector<float> host(device_->logits.size());
  device_->logits.download(host);
  return host;
}

FrameCodes CudaDepthformer::last_sampled() const {
  FrameCodes codes{};
  for (std::size_t level = 0; level < codes.size(); ++level) {
    codes[level] = static_cast<int>(device_->staged_result.get()->sampled[level]);
  }
  return codes;
}

std::size_t CudaDepthformer::weight_bytes() const { return device_->weights.bytes(); }

}  // namespace continuo::model::cuda
