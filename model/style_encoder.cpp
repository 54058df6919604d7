#include "model/style_encoder.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/musiccoca/style_encoder.hpp"
#include "model/text_tower.hpp"

namespace continuo::model {
namespace {

class TowerStyleEncoder final : public StyleEncoder {
 public:
  explicit TowerStyleEncoder(TextTower tower) : tower_(std::move(tower)) {}

  std::array<int, kStyleTokens> tokens(std::span<const continuo::WeightedPrompt> prompts) const override {
    std::vector<model::WeightedPrompt> views;
    views.reserve(prompts.size());
    for (const continuo::WeightedPrompt& p : prompts) {
      if (p.audio) throw std::invalid_argument(audio_missing());
      views.push_back({p.text, p.weight});
    }
    return tower_.quantize(tower_.blend(views));
  }

 private:
  TextTower tower_;
};

}  // namespace

std::shared_ptr<const StyleEncoder> load_style_encoder(const ModelPackage& package, const DepthformerConfig& lm) {
  // A token t reaches the style table as row t + conditioning_offset of its level.
  const std::size_t fits = lm.style_vocab - static_cast<std::size_t>(lm.conditioning_offset);
  if (package.manifest().musiccoca) return musiccoca::load_style_encoder(package, fits);
  const auto& tower = package.manifest().text_tower;
  if (!tower) return nullptr;
  if (tower->codebook > fits) {
    throw ModelFileError((package.dir() / "model.toml").string() + ": text_tower.codebook: " +
                         std::to_string(tower->codebook) + " codes per level, but the Depthformer's style table "
                         "takes tokens 0.." + std::to_string(fits - 1));
  }
  return std::make_shared<TowerStyleEncoder>(TextTower::load(package));
}

}  // namespace continuo::model
