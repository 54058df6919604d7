#include "model/musiccoca/style_encoder.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/musiccoca/audio_path.hpp"
#include "model/musiccoca/quantizer.hpp"
#include "model/musiccoca/text_path.hpp"

namespace continuo::model::musiccoca {
namespace {

// Prompts recur (a performer toggles between a few); an embedding costs a whole encoder run.
constexpr std::size_t kCachedPrompts = 256;

class CocaStyleEncoder final : public StyleEncoder {
 public:
  CocaStyleEncoder(Quantizer quantizer, TextPath text, std::optional<AudioPath> audio, std::size_t style_codes)
      : quantizer_(std::move(quantizer)), text_(std::move(text)), audio_(std::move(audio)), style_codes_(style_codes) {}

  std::array<int, kStyleTokens> tokens(std::span<const continuo::WeightedPrompt> prompts) const override {
    std::vector<model::WeightedPrompt> views;
    for (const continuo::WeightedPrompt& p : prompts) views.push_back({p.text, p.weight});
    const float total = blend_total_weight(views);
    std::vector<float> blended(quantizer_.dims(), 0.0f);
    for (const continuo::WeightedPrompt& prompt : prompts) {
      if (prompt.weight == 0.0f) continue;
      const std::vector<float> embedding = prompt.audio ? *prompt.audio : embed_text(prompt.text);
      if (embedding.size() != blended.size()) {
        throw std::invalid_argument("musiccoca: '" + prompt.text + "' has an embedding of " + std::to_string(embedding.size()) +
                                    " values, this model's of " + std::to_string(blended.size()));
      }
      for (std::size_t d = 0; d < blended.size(); ++d) blended[d] += prompt.weight / total * embedding[d];
    }
    const StyleTokens tokens = quantizer_.quantize(blended);
    for (const int token : tokens) {
      if (token < 0 || static_cast<std::size_t>(token) >= style_codes_) {
        throw std::invalid_argument("musiccoca: token " + std::to_string(token) + " is outside the model's style table (0.." +
                                    std::to_string(style_codes_ - 1) + ")");
      }
    }
    return tokens;
  }

  std::string audio_missing() const override {
    if (audio_) return {};
    return "this package's MusicCoCa has no audio path: convert it with --audio-preprocessor and --music-encoder "
           "(docs/models.md)";
  }

  AudioEmbedding embed_audio(std::span<const float> samples) const override {
    if (!audio_) throw std::invalid_argument(audio_missing());
    return std::make_shared<const std::vector<float>>(audio_->embed(samples));
  }

 private:
  std::vector<float> embed_text(const std::string& text) const {
    {
      const std::lock_guard lock(mutex_);
      if (const auto hit = cache_.find(text); hit != cache_.end()) return hit->second;
    }
    std::vector<float> embedding = text_.embed(text);  // outside the lock: prompts encode concurrently
    const std::lock_guard lock(mutex_);
    if (cache_.size() >= kCachedPrompts) cache_.clear();
    cache_.emplace(text, embedding);
    return embedding;
  }

  Quantizer quantizer_;
  TextPath text_;
  std::optional<AudioPath> audio_;
  std::size_t style_codes_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::vector<float>> cache_;
};

}  // namespace

std::shared_ptr<const StyleEncoder> load_style_encoder(const ModelPackage& package, std::size_t style_codes) {
  const MusicCocaManifest& files = package.manifest().musiccoca.value();
  const auto in_package = [&](const std::string& name) { return package.dir() / name; };
  Quantizer quantizer = Quantizer::load(in_package(files.quantizer));
  TextPath text = TextPath::load(in_package(files.text_encoder), in_package(files.spm), quantizer);
  std::optional<AudioPath> audio;
  if (!files.audio_preprocessor.empty()) {
    audio = AudioPath::load(in_package(files.audio_preprocessor), in_package(files.music_encoder), quantizer);
  }
  return std::make_shared<CocaStyleEncoder>(std::move(quantizer), std::move(text), std::move(audio), style_codes);
}

}  // namespace continuo::model::musiccoca
