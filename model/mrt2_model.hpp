#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/model.hpp"
#include "engine/model_registry.hpp"
#include "model/depthformer.hpp"
#include "model/device_runtime.hpp"
#include "model/package.hpp"
#include "model/spectrostream.hpp"

namespace continuo::model {

// A Magenta RealTime 2 package behind the engine's Model: per frame, the control snapshot
// becomes conditioning tokens, the Depthformer samples 12 RVQ codes, and SpectroStream
// decodes them to one frame of stereo audio.
class Mrt2Model final : public Model {
 public:
  // Opens and checks the package; ModelFileError names the first problem. Each reset feeds
  // prefill_frames of silence through the temporal stack when the package has the
  // SpectroStream encoder to find the silence codes with. `backend` says where the
  // Depthformer steps, and the decoder with it where it uploads; BackendUnavailable when
  // "cuda" cannot.
  Mrt2Model(const std::filesystem::path& dir, int prefill_frames, ModelBackend backend = ModelBackend::cpu);

  const ModelInfo& info() const override { return info_; }
  void reset(std::uint64_t seed) override;
  void step(const ControlSnapshot& control, std::span<float> out) override;
  std::span<const StageTime> last_step_stages() const override { return std::span(stages_).first(stage_count_); }
  std::shared_ptr<const StyleEncoder> style_encoder() const override { return style_encoder_; }
  std::shared_ptr<AudioEncoder> audio_encoder() const override { return audio_encoder_; }
  // Frames of the context past model.prefill_frames are fed too; fewer are preceded by
  // silence frames up to it, so every attention window holds context either way.
  void reset_to_context(std::uint64_t seed, std::span<const int> tokens) override;

  const Manifest& manifest() const { return package_.manifest(); }
  // The codes of encoded digital silence, when the package can tell them.
  const std::optional<FrameCodes>& silence() const { return silence_; }

 private:
  ModelPackage package_;  // first: the other members read weights from its mapped files
  Depthformer lm_;
  SpectroStreamDecoder codec_;
  // Steps the frames instead of lm_ when set, and decodes them instead of codec_ when it decodes().
  std::unique_ptr<DeviceRuntime> device_;
  void prefill();
  FrameCodes step_lm(const FrameConditioning& conditioning, const SamplingParams& params);
  void feed_context(const FrameCodes& codes);
  void warm_codec(std::span<const FrameCodes> last_frames);
  void decode(const FrameCodes& codes, std::span<float> out);
  void reset_runtimes();
  std::vector<FrameCodes> context_frames(std::span<const int> tokens) const;

  ModelInfo info_;
  int prefill_frames_;
  std::optional<FrameCodes> silence_;
  std::shared_ptr<const StyleEncoder> style_encoder_;  // the package's text tower, if it has one
  std::shared_ptr<AudioEncoder> audio_encoder_;  // the package's SpectroStream encoder, if it has one
  std::vector<float> warmup_audio_;
  std::uint64_t run_seed_ = 0;
  std::array<StageTime, 4> stages_{};
  std::size_t stage_count_ = 0;
};

// Registers the kind "package" ("package:DIR"); a spec that names a directory is a
// package too.
void register_packages(ModelRegistry& registry);

}  // namespace continuo::model
