#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/model.hpp"
#include "model/depthformer_config.hpp"
#include "model/depthformer_encoder.hpp"
#include "model/depthformer_layers.hpp"
#include "model/mrt2_types.hpp"
#include "model/package.hpp"

namespace continuo::model {

// What one frame computes, stage by stage, for tests and tools. Spans point into the
// Depthformer's buffers and are valid during the call only.
class DepthformerObserver {
 public:
  enum class Block : std::uint8_t { self_attention, cross_attention, ffn };

  virtual ~DepthformerObserver() = default;
  virtual void encoder_output(std::span<const float> /*x*/) {}
  // The residual stream after one block of temporal layer `layer`.
  virtual void temporal_block(std::size_t /*layer*/, Block /*block*/,
                              std::span<const float> /*x*/) {}
  virtual void temporal_output(std::span<const float> /*x*/) {}
  virtual void depth_adapter(std::size_t /*level*/, std::span<const float> /*x*/) {}
  virtual void depth_layer(std::size_t /*level*/, std::size_t /*layer*/,
                           std::span<const float> /*x*/) {}
  virtual void depth_final_norm(std::size_t /*level*/, std::span<const float> /*x*/) {}
  // The level's `codebook` logits before the soft cap (to_logits rows of the level).
  virtual void logits(std::size_t /*level*/, std::span<const float> /*logits*/) {}
};

// Chooses level r's code (0..codebook-1) from its soft-capped logits. step() samples
// (kernels sample_seeded); tests force the reference's codes or replay its Gumbel noise.
class LevelPicker {
 public:
  virtual ~LevelPicker() = default;
  virtual std::uint32_t pick(std::size_t level, std::span<const float> capped_logits) = 0;
};

// The Depthformer's weights as bound from the package (views into its mapped files).
struct DepthformerWeights {
  struct TemporalLayer {
    AttentionLayer self_attention, cross_attention;
    FfnLayer ffn;
  };
  struct DepthLayer {
    AttentionLayer self_attention;
    FfnLayer ffn;
  };

  kernels::WeightView token_embedding;
  std::vector<TemporalLayer> temporal;
  kernels::WeightView depth_adapter;  // absent when both stacks have the same width
  std::vector<DepthLayer> depth;
  kernels::WeightView final_norm_scale, final_norm_bias, logits_weight, logits_bias;
};

// The MRT2 Depthformer (docs/mrt2-reference.md §1-§5) on the CPU kernels: conditioning
// encoder, temporal transformer (self-attention over past frames, cross-attention over past
// encoder outputs), depth transformer over the 12 RVQ levels of a frame. Everything is
// allocated at construction; a frame allocates nothing. Not thread-safe: one generator.
class Depthformer {
 public:
  // Reads [architecture], checks the package's non-codec tensors (ModelFileError naming the
  // first missing, extra or misshapen one) and preallocates every buffer and K/V ring.
  explicit Depthformer(const ModelPackage& package);

  const DepthformerConfig& config() const { return config_; }
  // The canonical tensors this model reads, in load order (the composed model's check).
  const std::vector<TensorSpec>& tensor_specs() const { return specs_; }

  // One frame: encode, temporal step on the previous frame's codes (SOS after reset), 12
  // sampled depth steps (seeded by params.seed, the frame counter and the level).
  FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params);
  // The same frame with the codes chosen by `picker` (which may force them), stages reported
  // to `observer` when given.
  FrameCodes step_traced(const FrameConditioning& conditioning, LevelPicker& picker,
                         DepthformerObserver* observer = nullptr);
  // Forgets every K/V ring; the next frame's decoder input is SOS, the frame counter 0.
  void reset();

  // The stages of a frame, for a composition that drives them itself (prefill: encode,
  // set_previous(silence), temporal_step, and no depth steps).
  void encode(const FrameConditioning& conditioning, DepthformerObserver* observer = nullptr);
  // Sets the next temporal_step's input: this frame's codes instead of the last sampled ones.
  void set_previous(const FrameCodes& codes);
  // Runs the temporal stack on the previous frame's codes; the cross-attention sees the
  // encoder outputs pushed so far (call encode first).
  void temporal_step(DepthformerObserver* observer = nullptr);
  // The 12 depth steps on the last temporal output; the codes become the next input and the
  // frame counter advances.
  FrameCodes depth_step(LevelPicker& picker, DepthformerObserver* observer = nullptr);

  std::uint64_t frame() const { return frame_; }
  // What the CUDA twin (model/cuda/) uploads and validates conditioning with.
  const DepthformerWeights& weights() const { return weights_; }
  const ConditioningEncoder& encoder() const { return encoder_; }
  // encoder / temporal / depth milliseconds of the last frame.
  std::span<const StageTime> last_step_stages() const { return stages_; }

 private:
  Depthformer(const ModelPackage& package, WeightBinder&& binder);
  void run_depth_layers(std::size_t level, DepthformerObserver* observer);

  DepthformerConfig config_;
  ConditioningEncoder encoder_;
  DepthformerWeights weights_;
  float embedding_scale_;
  std::vector<TensorSpec> specs_;

  std::vector<KvCache> self_caches_, cross_caches_, depth_caches_;
  BlockScratch scratch_;
  std::vector<float> temporal_x_, depth_input_, depth_x_, logits_, capped_;
  std::vector<std::uint32_t> sample_scratch_;
  std::array<std::int32_t, kLmLevels> previous_ids_{};  // unique ids: the next temporal input
  std::uint64_t frame_ = 0;
  std::array<StageTime, 3> stages_{{{"encoder", 0.0}, {"temporal", 0.0}, {"depth", 0.0}}};
};

}  // namespace continuo::model
