#include "model/text_style.hpp"

#include <string>
#include <utility>
#include <vector>

#include "model/musiccoca/text_style.hpp"
#include "model/text_tower.hpp"

namespace continuo::model {
namespace {

class TowerTextStyle final : public TextStyle {
 public:
  explicit TowerTextStyle(TextTower tower) : tower_(std::move(tower)) {}

  std::array<int, kStyleTokens> tokens(std::span<const continuo::WeightedPrompt> prompts) const override {
    std::vector<model::WeightedPrompt> views;
    views.reserve(prompts.size());
    for (const continuo::WeightedPrompt& p : prompts) views.push_back({p.text, p.weight});
    return tower_.quantize(tower_.blend(views));
  }

 private:
  TextTower tower_;
};

}  // namespace

std::shared_ptr<const TextStyle> load_text_style(const ModelPackage& package, const DepthformerConfig& lm) {
  // A token t reaches the style table as row t + conditioning_offset of its level.
  const std::size_t fits = lm.style_vocab - static_cast<std::size_t>(lm.conditioning_offset);
  if (package.manifest().musiccoca) return musiccoca::load_text_style(package, fits);
  const auto& tower = package.manifest().text_tower;
  if (!tower) return nullptr;
  if (tower->codebook > fits) {
    throw ModelFileError((package.dir() / "model.toml").string() + ": text_tower.codebook: " +
                         std::to_string(tower->codebook) + " codes per level, but the Depthformer's style table "
                         "takes tokens 0.." + std::to_string(fits - 1));
  }
  return std::make_shared<TowerTextStyle>(TextTower::load(package));
}

}  // namespace continuo::model
