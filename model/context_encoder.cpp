#include "model/context_encoder.hpp"

#include <stdexcept>
#include <string>

namespace continuo::model {

ContextEncoder::ContextEncoder(const std::filesystem::path& package_dir)
    : package_(ModelPackage::open(package_dir)), encoder_(package_) {}

std::vector<int> ContextEncoder::encode(std::span<const float> interleaved_stereo) {
  const std::size_t frame = 2 * static_cast<std::size_t>(encoder_.frame_samples());
  const std::size_t frames = interleaved_stereo.size() / frame;
  if (frames < 2) {
    throw std::invalid_argument("too short to encode: " + std::to_string(interleaved_stereo.size() / 2) +
                                " samples at " + std::to_string(sample_rate()) + " Hz, at least " +
                                std::to_string(2 * encoder_.frame_samples()) + " needed");
  }
  std::vector<int> tokens;
  tokens.reserve((frames - 1) * kLmLevels);
  encoder_.reset();
  for (std::size_t f = 0; f < frames; ++f) {
    const FrameCodes codes = encoder_.encode(interleaved_stereo.subspan(f * frame, frame));
    if (f > 0) tokens.insert(tokens.end(), codes.begin(), codes.end());  // call 0: the masked frame
  }
  encoder_.reset();
  return tokens;
}

}  // namespace continuo::model
