#pragma once

#include <filesystem>
#include <span>
#include <vector>

#include "engine/model.hpp"
#include "model/package.hpp"
#include "model/spectrostream_encoder.hpp"

namespace continuo::model {

// A package's SpectroStream encoder as the engine's AudioEncoder, for live prefill: audio to
// the 12 RVQ codes of each token frame, flattened frame by frame. It maps the package again
// on its own (the pages are shared, the mapping is cheap) so it stays valid on its worker
// thread even while the model it came from is switched away and destroyed.
class ContextEncoder final : public AudioEncoder {
 public:
  explicit ContextEncoder(const std::filesystem::path& package_dir);

  int sample_rate() const override { return encoder_.sample_rate(); }
  // From a reset encoder, every whole frame but the last: the encoder answers a frame one
  // call late (its STFT reaches into the next frame), and the last frame's answer would
  // need audio not played yet. At least two frames. Leaves the encoder reset.
  std::vector<int> encode(std::span<const float> interleaved_stereo) override;

 private:
  ModelPackage package_;  // first: the encoder reads weights from its mapped files
  SpectroStreamEncoder encoder_;
};

}  // namespace continuo::model
