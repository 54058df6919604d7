#include "model/text_tower.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "kernels/dense/dense.hpp"
#include "kernels/ffn/ffn.hpp"
#include "kernels/rvq_encode/rvq_encode.hpp"
#include "model/text_words.hpp"

namespace continuo::model {
namespace {

namespace fs = std::filesystem;

// F.normalize's floor: a zero vector stays zero instead of dividing by zero.
constexpr float kNormFloor = 1e-12f;

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelFileError(path.string() + ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One word per line ('\n'; a last newline is optional); each a word as split_words makes
// them, listed once. Line i holds row i - 1 of text.words.
std::vector<std::string> read_vocabulary(const fs::path& path) {
  const std::string text = read_text_file(path);
  std::vector<std::string> words;
  std::map<std::string, std::size_t, std::less<>> line_of;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    std::string word = text.substr(begin, end - begin);
    const std::size_t line = words.size() + 1;
    const std::string where = path.string() + ":" + std::to_string(line) + ": ";
    if (!is_vocabulary_word(word)) {
      throw ModelFileError(where + "\"" + word + "\" is not one lowercase word (a-z, 0-9, UTF-8 letters; no spaces, "
                                                 "punctuation or empty lines)");
    }
    const auto [at, fresh] = line_of.emplace(word, line);
    if (!fresh) throw ModelFileError(where + "\"" + word + "\" is listed twice (line " + std::to_string(at->second) + ")");
    words.push_back(std::move(word));
    begin = end + 1;
  }
  return words;
}

struct ExpectedTensor {
  TensorSpec spec;
  std::string note;  // said after a wrong shape
};

std::vector<ExpectedTensor> expected_tensors(const TextTowerManifest& c, std::size_t vocabulary) {
  const std::string rows = " (one row per line of " + c.vocab + ": " + std::to_string(vocabulary) + " words)";
  return {
      {{"text.words", {vocabulary, c.word_dims}}, rows},
      {{"text.buckets", {c.buckets, c.word_dims}}, ""},
      {{"text.mlp.w1", {c.hidden_dims, c.word_dims}}, ""},
      {{"text.mlp.b1", {c.hidden_dims}}, ""},
      {{"text.mlp.w2", {kStyleDims, c.hidden_dims}}, ""},
      {{"text.mlp.b2", {kStyleDims}}, ""},
      {{"text.rvq.codebooks", {kStyleLevels, c.codebook, kStyleDims}}, ""},
  };
}

// The file holds exactly the expected tensors with the expected shapes; the first problem
// found is the error.
void check_tensors(const SafetensorsFile& file, const std::vector<ExpectedTensor>& expected) {
  for (const ExpectedTensor& tensor : expected) {
    const std::string where = file.path() + ": tensor '" + tensor.spec.name + "': ";
    if (!file.contains(tensor.spec.name)) throw ModelFileError(where + "missing (expected " + format_shape(tensor.spec.shape) + ")");
    const Shape& shape = file.info(tensor.spec.name).shape;
    if (shape != tensor.spec.shape) {
      throw ModelFileError(where + "expected " + format_shape(tensor.spec.shape) + tensor.note + ", file has " +
                           format_shape(shape));
    }
  }
  for (const std::string& name : file.names()) {
    const bool known = std::any_of(expected.begin(), expected.end(), [&](const auto& t) { return t.spec.name == name; });
    if (!known) throw ModelFileError(file.path() + ": tensor '" + name + "': not expected by the text tower (extra tensor)");
  }
}

void add_row(kernels::WeightView table, std::size_t row, std::size_t dims, float* out) {
  for (std::size_t d = 0; d < dims; ++d) out[d] += table.at(row * dims + d);
}

}  // namespace

float blend_total_weight(std::span<const WeightedPrompt> prompts) {
  if (prompts.empty()) throw std::invalid_argument("blend: no prompts");
  float total = 0.0f;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const float w = prompts[i].weight;
    if (!std::isfinite(w) || w < 0.0f) {
      throw std::invalid_argument("blend: prompt " + std::to_string(i) + " has weight " + std::to_string(w) +
                                  " (weights must be finite and >= 0)");
    }
    total += w;
  }
  if (!(total > 0.0f)) throw std::invalid_argument("blend: every weight is 0");
  return total;
}


TextTower TextTower::open(const fs::path& package_dir) { return load(package_dir, load_manifest(package_dir)); }

TextTower TextTower::load(const ModelPackage& package) { return load(package.dir(), package.manifest()); }

TextTower TextTower::load(const fs::path& package_dir, const Manifest& manifest) {
  if (!manifest.text_tower) {
    throw ModelFileError((package_dir / "model.toml").string() + ": no text tower (no [text_tower] section)");
  }
  const TextTowerManifest& config = *manifest.text_tower;
  std::vector<std::string> vocabulary = read_vocabulary(package_dir / config.vocab);
  SafetensorsFile file = SafetensorsFile::open(package_dir / config.weights);
  check_tensors(file, expected_tensors(config, vocabulary.size()));
  return TextTower(config, std::move(file), std::move(vocabulary));
}

TextTower::TextTower(const TextTowerManifest& config, SafetensorsFile file, std::vector<std::string> vocabulary)
    : config_(config), file_(std::move(file)) {
  for (std::size_t row = 0; row < vocabulary.size(); ++row) vocabulary_.emplace(std::move(vocabulary[row]), row);
  words_ = file_.view("text.words");
  buckets_ = file_.view("text.buckets");
  w1_ = file_.view("text.mlp.w1");
  b1_ = file_.view("text.mlp.b1");
  w2_ = file_.view("text.mlp.w2");
  b2_ = file_.view("text.mlp.b2");
  codebooks_ = file_.view("text.rvq.codebooks");
  codebook_norms_.resize(kStyleLevels * config_.codebook);
  kernels::rvq_codebook_norms(rvq_shape(), codebooks_, codebook_norms_.data());
}

kernels::RvqShape TextTower::rvq_shape() const {
  return {static_cast<int>(kStyleLevels), static_cast<int>(config_.codebook), static_cast<int>(kStyleDims)};
}

// pooled += (the word's row, if it has one) + the mean of its n-gram buckets' rows.
void TextTower::add_word_vector(std::string_view word, std::vector<std::uint32_t>& grams, float* pooled) const {
  const std::size_t dims = config_.word_dims;
  ngram_buckets(word, {config_.ngram_min, config_.ngram_max, config_.buckets}, grams);
  std::vector<float> vector(dims, 0.0f);
  for (const std::uint32_t bucket : grams) add_row(buckets_, bucket, dims, vector.data());
  if (!grams.empty()) {
    for (float& v : vector) v /= static_cast<float>(grams.size());
  }
  const auto known = vocabulary_.find(word);
  if (known != vocabulary_.end()) add_row(words_, known->second, dims, vector.data());
  for (std::size_t d = 0; d < dims; ++d) pooled[d] += vector[d];
}

StyleEmbedding TextTower::embed(std::string_view text) const {
  const std::vector<std::string> words = split_words(text, config_.max_words);
  std::vector<float> pooled(config_.word_dims, 0.0f);
  std::vector<std::uint32_t> grams;
  for (const std::string& word : words) add_word_vector(word, grams, pooled.data());
  if (!words.empty()) {
    for (float& v : pooled) v /= static_cast<float>(words.size());
  }

  std::vector<float> hidden(config_.hidden_dims);
  kernels::dense({config_.word_dims, config_.hidden_dims}, w1_, b1_, pooled.data(), hidden.data());
  for (float& h : hidden) h = kernels::activate(kernels::Activation::gelu_tanh, h);
  StyleEmbedding embedding{};
  kernels::dense({config_.hidden_dims, kStyleDims}, w2_, b2_, hidden.data(), embedding.data());

  float squares = 0.0f;
  for (const float e : embedding) squares += e * e;
  const float norm = std::max(std::sqrt(squares), kNormFloor);
  for (float& e : embedding) e /= norm;
  return embedding;
}

StyleEmbedding TextTower::blend(std::span<const WeightedPrompt> prompts) const {
  const float total = blend_total_weight(prompts);
  StyleEmbedding blended{};
  for (const WeightedPrompt& prompt : prompts) {
    if (prompt.weight == 0.0f) continue;
    const float share = prompt.weight / total;
    const StyleEmbedding embedding = embed(prompt.text);
    for (std::size_t d = 0; d < kStyleDims; ++d) blended[d] += share * embedding[d];
  }
  return blended;
}

StyleTokens TextTower::quantize(const StyleEmbedding& embedding) const {
  StyleEmbedding residual = embedding;
  StyleTokens tokens{};
  kernels::rvq_encode(rvq_shape(), codebooks_, codebook_norms_.data(), residual.data(), tokens.data());
  return tokens;
}

}  // namespace continuo::model
