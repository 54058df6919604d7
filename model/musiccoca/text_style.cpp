#include "model/musiccoca/text_style.hpp"

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/musiccoca/text_path.hpp"

namespace continuo::model::musiccoca {
namespace {

// Prompts recur (a performer toggles between a few); an embedding costs a whole encoder run.
constexpr std::size_t kCachedPrompts = 256;

class CocaTextStyle final : public TextStyle {
 public:
  CocaTextStyle(TextPath path, std::size_t style_codes) : path_(std::move(path)), style_codes_(style_codes) {}

  std::array<int, kStyleTokens> tokens(std::span<const continuo::WeightedPrompt> prompts) const override {
    std::vector<model::WeightedPrompt> views;
    for (const continuo::WeightedPrompt& p : prompts) views.push_back({p.text, p.weight});
    const float total = blend_total_weight(views);
    std::vector<float> blended(path_.dims(), 0.0f);
    for (const continuo::WeightedPrompt& prompt : prompts) {
      if (prompt.weight == 0.0f) continue;
      const std::vector<float> embedding = embed(prompt.text);
      for (std::size_t d = 0; d < blended.size(); ++d) blended[d] += prompt.weight / total * embedding[d];
    }
    const StyleTokens tokens = path_.quantize(blended);
    for (const int token : tokens) {
      if (token < 0 || static_cast<std::size_t>(token) >= style_codes_) {
        throw std::invalid_argument("musiccoca: token " + std::to_string(token) + " is outside the model's style table (0.." +
                                    std::to_string(style_codes_ - 1) + ")");
      }
    }
    return tokens;
  }

 private:
  std::vector<float> embed(const std::string& text) const {
    {
      const std::lock_guard lock(mutex_);
      if (const auto hit = cache_.find(text); hit != cache_.end()) return hit->second;
    }
    std::vector<float> embedding = path_.embed(text);  // outside the lock: prompts encode concurrently
    const std::lock_guard lock(mutex_);
    if (cache_.size() >= kCachedPrompts) cache_.clear();
    cache_.emplace(text, embedding);
    return embedding;
  }

  TextPath path_;
  std::size_t style_codes_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::vector<float>> cache_;
};

}  // namespace

std::shared_ptr<const TextStyle> load_text_style(const ModelPackage& package, std::size_t style_codes) {
  const MusicCocaManifest& files = package.manifest().musiccoca.value();
  const auto in_package = [&](const std::string& name) { return package.dir() / name; };
  return std::make_shared<CocaTextStyle>(
      TextPath::load(in_package(files.text_encoder), in_package(files.quantizer), in_package(files.spm)), style_codes);
}

}  // namespace continuo::model::musiccoca
