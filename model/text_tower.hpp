#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/rvq_decode/rvq_decode.hpp"
#include "kernels/tensor.hpp"
#include "model/package.hpp"
#include "model/safetensors.hpp"

namespace continuo::model {

// The MusicCoCa interface the Depthformer's style conditioning reads: a 768-d embedding,
// quantized to 12 RVQ tokens.
inline constexpr std::size_t kStyleDims = 768;
inline constexpr std::size_t kStyleLevels = 12;
using StyleEmbedding = std::array<float, kStyleDims>;
using StyleTokens = std::array<int, kStyleLevels>;

struct WeightedPrompt {
  std::string_view text;
  float weight = 1.0f;
};

// sum of the prompts' weights; std::invalid_argument when there are no prompts, a weight is
// negative or not finite, or every weight is 0. Blends divide by it (TextTower::blend, the
// MusicCoCa text path).
float blend_total_weight(std::span<const WeightedPrompt> prompts);

// A model's text tower (docs/text-tower.md): text -> style embedding -> style tokens, the
// twin of tools/train/style/text_tower.py. A small learned model over a vocabulary of musical
// words plus hashed character n-grams, so a misspelt or unknown word still lands near the
// words it resembles. Not real-time: it allocates, and takes about 1 ms a prompt; call it off the
// generator thread and hand the tokens over. Const methods may run concurrently.
class TextTower {
 public:
  // ModelFileError naming the file and key on any problem; "<dir>/model.toml: no text tower
  // ..." when the manifest has no [text_tower].
  static TextTower open(const std::filesystem::path& package_dir);
  static TextTower load(const ModelPackage& package);
  static TextTower load(const std::filesystem::path& package_dir, const Manifest& manifest);

  const TextTowerManifest& config() const { return config_; }
  std::size_t vocabulary_size() const { return vocabulary_.size(); }

  // Unit length (a text without words embeds as the tower's zero-words point).
  StyleEmbedding embed(std::string_view text) const;

  // sum_i (w_i / sum w) · embed(text_i), prompts of weight 0 skipped, not re-normalised (as
  // upstream MusicCoCa blends). std::invalid_argument: no prompts, a weight negative or not
  // finite, or every weight 0.
  StyleEmbedding blend(std::span<const WeightedPrompt> prompts) const;

  // Residual VQ (kernels/rvq_encode): 12 codes in [0, codebook).
  StyleTokens quantize(const StyleEmbedding& embedding) const;

 private:
  TextTower(const TextTowerManifest& config, SafetensorsFile file, std::vector<std::string> vocabulary);
  kernels::RvqShape rvq_shape() const;
  void add_word_vector(std::string_view word, std::vector<std::uint32_t>& grams, float* pooled) const;

  TextTowerManifest config_;
  SafetensorsFile file_;  // the views below point into its map
  std::map<std::string, std::size_t, std::less<>> vocabulary_;  // word -> row of words_
  kernels::WeightView words_, buckets_, w1_, b1_, w2_, b2_, codebooks_;
  std::vector<float> codebook_norms_;  // [12, codebook]: |code|², once, for rvq_encode
};

}  // namespace continuo::model
