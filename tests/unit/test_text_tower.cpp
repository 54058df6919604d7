// The text tower against its PyTorch definition (tools/train/style/text_tower.py), through
// the fixture tools/train/make_text_tower_fixture.py wrote: tests/fixtures/text_tower/.
#include "model/text_tower.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "model/text_words.hpp"

namespace continuo::model {
namespace {

namespace fs = std::filesystem;

const fs::path kFixture = fs::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/text_tower";

// ---- Words and n-grams ----------------------------------------------------------------------

TEST(TextWords, SplitsLowercasedTextOnEveryOtherByte) {
  EXPECT_EQ(split_words("Slow, AMBIENT drums!!! lo-fi r&b 808s", 32),
            (std::vector<std::string>{"slow", "ambient", "drums", "lo", "fi", "r", "b", "808s"}));
  EXPECT_TRUE(split_words(" ,.!?-_\t\n", 32).empty());
  EXPECT_TRUE(split_words("", 32).empty());
}

TEST(TextWords, KeepsUtf8BytesInsideWordsAndLeavesTheirCase) {
  EXPECT_EQ(split_words("CAFÉ Ñandú 日本の音楽", 32), (std::vector<std::string>{"cafÉ", "Ñandú", "日本の音楽"}));
}

TEST(TextWords, StopsAtMaxWords) {
  EXPECT_EQ(split_words("a b c d", 2), (std::vector<std::string>{"a", "b"}));
}

TEST(TextWords, Fnv1a32KnownValues) {  // the FNV reference test vectors
  EXPECT_EQ(fnv1a32(""), 0x811C9DC5u);
  EXPECT_EQ(fnv1a32("a"), 0xE40C292Cu);
  EXPECT_EQ(fnv1a32("foobar"), 0xBF9CF968u);
}

TEST(TextWords, NgramsOfTheWrappedWordShortestFirst) {
  std::vector<std::uint32_t> buckets;
  ngram_buckets("ab", {3, 5, 1000}, buckets);
  EXPECT_EQ(buckets, (std::vector<std::uint32_t>{fnv1a32("<ab") % 1000, fnv1a32("ab>") % 1000, fnv1a32("<ab>") % 1000}));
  ngram_buckets("a", {4, 5, 1000}, buckets);
  EXPECT_TRUE(buckets.empty());  // "<a>" is shorter than any n-gram
}

TEST(TextWords, VocabularyWordsAreWhatTheSplitterMakes) {
  EXPECT_TRUE(is_vocabulary_word("jazz"));
  EXPECT_TRUE(is_vocabulary_word("café"));
  EXPECT_FALSE(is_vocabulary_word("Jazz"));
  EXPECT_FALSE(is_vocabulary_word("lo-fi"));
  EXPECT_FALSE(is_vocabulary_word(""));
}

// ---- Parity with PyTorch ----------------------------------------------------------------------

// What PyTorch computed: F32 tensors and the texts in the header's metadata.
class TextTowerParity : public ::testing::Test {
 protected:
  TextTower tower = TextTower::open(kFixture / "package");
  SafetensorsFile expected = SafetensorsFile::open(kFixture / "expected.safetensors");

  std::vector<float> floats(const std::string& name) const {
    const kernels::WeightView view = expected.view(name);
    std::vector<float> values(view.count);
    for (std::size_t i = 0; i < view.count; ++i) values[i] = view.at(i);
    return values;
  }
  std::size_t count(const std::string& key) const { return std::stoul(expected.metadata().at(key)); }
  std::string text(const std::string& key) const { return expected.metadata().at(key); }

  StyleTokens tokens(const std::string& name) const {
    StyleTokens tokens{};
    const std::vector<float> values = floats(name);
    for (std::size_t l = 0; l < kStyleLevels; ++l) tokens[l] = static_cast<int>(values.at(l));
    return tokens;
  }
};

// max |got - want| over max |want|: per-element ratios mean nothing for elements near 0.
double relative_error(const StyleEmbedding& got, const std::vector<float>& want) {
  double error = 0.0, scale = 0.0;
  for (std::size_t d = 0; d < kStyleDims; ++d) {
    error = std::max(error, std::abs(static_cast<double>(got[d]) - want.at(d)));
    scale = std::max(scale, std::abs(static_cast<double>(want[d])));
  }
  return error / scale;
}

constexpr double kTolerance = 1e-5;

TEST_F(TextTowerParity, EmbeddingsMatchPyTorch) {
  ASSERT_EQ(count("cases"), 10u);
  double worst = 0.0;
  for (std::size_t i = 0; i < count("cases"); ++i) {
    const std::string name = "case." + std::to_string(i);
    const double error = relative_error(tower.embed(text(name + ".text")), floats(name + ".embedding"));
    EXPECT_LE(error, kTolerance) << '"' << text(name + ".text") << '"';
    worst = std::max(worst, error);
  }
  std::printf("text tower: worst relative embedding error vs PyTorch %.2e\n", worst);
}

TEST_F(TextTowerParity, TokensMatchPyTorch) {
  for (std::size_t i = 0; i < count("cases"); ++i) {
    const std::string name = "case." + std::to_string(i);
    StyleEmbedding reference{};
    const std::vector<float> values = floats(name + ".embedding");
    std::copy(values.begin(), values.end(), reference.begin());
    EXPECT_EQ(tower.quantize(reference), tokens(name + ".tokens")) << '"' << text(name + ".text") << '"';
    EXPECT_EQ(tower.quantize(tower.embed(text(name + ".text"))), tokens(name + ".tokens"));
  }
}

TEST_F(TextTowerParity, BlendsMatchPyTorch) {
  for (std::size_t b = 0; b < count("blends"); ++b) {
    const std::string name = "blend." + std::to_string(b);
    const std::vector<float> weights = floats(name + ".weights");
    std::vector<std::string> texts;
    for (std::size_t p = 0; p < weights.size(); ++p) texts.push_back(text(name + ".text." + std::to_string(p)));
    std::vector<WeightedPrompt> prompts;
    for (std::size_t p = 0; p < weights.size(); ++p) prompts.push_back({texts[p], weights[p]});
    const StyleEmbedding blended = tower.blend(prompts);
    EXPECT_LE(relative_error(blended, floats(name + ".embedding")), kTolerance) << name;
    EXPECT_EQ(tower.quantize(blended), tokens(name + ".tokens")) << name;
  }
}

TEST_F(TextTowerParity, EmbeddingsHaveUnitLength) {
  for (const char* text : {"jazz piano", "", "qqqq zzzz"}) {
    double squares = 0.0;
    for (const float e : tower.embed(text)) squares += static_cast<double>(e) * e;
    EXPECT_NEAR(std::sqrt(squares), 1.0, 1e-6) << text;
  }
}

TEST_F(TextTowerParity, BlendOfOneWeightedPromptIsItsEmbedding) {
  const WeightedPrompt prompts[] = {{"funk", 0.0f}, {"bass", 2.5f}};
  EXPECT_EQ(tower.blend(prompts), tower.embed("bass"));
}

std::string blend_error(const TextTower& tower, std::vector<WeightedPrompt> prompts) {
  try {
    tower.blend(prompts);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "blended";
}

TEST_F(TextTowerParity, BlendRefusesWhatIsNoWeightedMean) {
  EXPECT_EQ(blend_error(tower, {}), "blend: no prompts");
  EXPECT_EQ(blend_error(tower, {{"jazz", 0.0f}, {"funk", 0.0f}}), "blend: every weight is 0");
  EXPECT_EQ(blend_error(tower, {{"jazz", 1.0f}, {"funk", -0.5f}}),
            "blend: prompt 1 has weight -0.500000 (weights must be finite and >= 0)");
  EXPECT_NE(blend_error(tower, {{"jazz", std::numeric_limits<float>::quiet_NaN()}}).find("prompt 0 has weight"),
            std::string::npos);
}

TEST_F(TextTowerParity, ReadsTheManifestSection) {
  EXPECT_EQ(tower.config().word_dims, 16u);
  EXPECT_EQ(tower.config().hidden_dims, 24u);
  EXPECT_EQ(tower.config().codebook, 4u);
  EXPECT_EQ(tower.vocabulary_size(), 12u);
}

// ---- Refusing broken packages ----------------------------------------------------------------

// A copy of the fixture package in a temporary directory, to break one thing at a time.
class TextTowerFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("continuo_test_text_tower_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::copy(kFixture / "package", dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string read(const std::string& file) const {
    std::ifstream in(dir_ / file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write(const std::string& file, const std::string& text) const { std::ofstream(dir_ / file, std::ios::binary) << text; }
  void replace(const std::string& file, const std::string& from, const std::string& to) const {
    std::string text = read(file);
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    write(file, text.replace(at, from.size(), to));
  }

  // The one-line message TextTower::open throws, or a failure.
  std::string open_error() const {
    try {
      TextTower::open(dir_);
    } catch (const ModelFileError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      return message;
    }
    ADD_FAILURE() << "text tower loaded";
    return {};
  }
  std::string path(const std::string& file) const { return (dir_ / file).string(); }

  fs::path dir_;
};

TEST_F(TextTowerFiles, AManifestWithoutTheSectionHasNoTextTower) {
  const std::string manifest = read("model.toml");
  write("model.toml", manifest.substr(0, manifest.find("[text_tower]")));
  EXPECT_EQ(open_error(), path("model.toml") + ": no text tower (no [text_tower] section)");
}

TEST_F(TextTowerFiles, EveryExistingPackageStillLoadsWithoutOne) {
  const fs::path tiny = fs::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny/package";
  const ModelPackage package = ModelPackage::open(tiny);
  EXPECT_FALSE(package.manifest().text_tower.has_value());
  EXPECT_THROW(TextTower::load(package), ModelFileError);
}

TEST_F(TextTowerFiles, MissingFilesAreNamed) {
  fs::remove(dir_ / "text_vocab.txt");
  EXPECT_EQ(open_error(), path("text_vocab.txt") + ": cannot open");
  fs::copy(kFixture / "package/text_vocab.txt", dir_ / "text_vocab.txt");
  fs::remove(dir_ / "text_tower.safetensors");
  EXPECT_EQ(open_error().rfind(path("text_tower.safetensors") + ": cannot open", 0), 0u);
}

TEST_F(TextTowerFiles, AShapeThatDisagreesWithTheManifestIsNamed) {
  replace("model.toml", "word_dims = 16", "word_dims = 8");
  EXPECT_EQ(open_error(), path("text_tower.safetensors") +
                              ": tensor 'text.words': expected [12, 8] (one row per line of text_vocab.txt: 12 words), "
                              "file has [12, 16]");
  replace("model.toml", "word_dims = 8", "word_dims = 16");
  replace("model.toml", "codebook = 4", "codebook = 5");
  EXPECT_EQ(open_error(), path("text_tower.safetensors") + ": tensor 'text.rvq.codebooks': expected [12, 5, 768], file has [12, 4, 768]");
}

TEST_F(TextTowerFiles, VocabularyMustMatchTheRowsAndHoldWords) {
  write("text_vocab.txt", read("text_vocab.txt") + "trumpet\n");
  EXPECT_EQ(open_error().rfind(path("text_tower.safetensors") + ": tensor 'text.words': expected [13, 16]", 0), 0u);
  replace("text_vocab.txt", "jazz\n", "Jazz\n");
  EXPECT_EQ(open_error().rfind(path("text_vocab.txt") + ":1: \"Jazz\" is not one lowercase word", 0), 0u);
  replace("text_vocab.txt", "Jazz\n", "piano\n");
  EXPECT_EQ(open_error(), path("text_vocab.txt") + ":2: \"piano\" is listed twice (line 1)");
  replace("text_vocab.txt", "piano\npiano\n", "piano\n\n");
  EXPECT_EQ(open_error().rfind(path("text_vocab.txt") + ":2: \"\" is not one lowercase word", 0), 0u);
}

TEST_F(TextTowerFiles, ManifestKeysAreChecked) {
  replace("model.toml", "codebook = 4", "codebook = 4\ncolour = 1");
  EXPECT_NE(open_error().find(": text_tower.colour: unknown key"), std::string::npos);
  replace("model.toml", "colour = 1", "");
  replace("model.toml", "buckets = 64\n", "");
  EXPECT_NE(open_error().find(": text_tower.buckets: missing"), std::string::npos);
  replace("model.toml", "ngram_min = 3", "buckets = 64\nngram_min = 3");
  replace("model.toml", "ngram_max = 5", "ngram_max = 2");
  EXPECT_NE(open_error().find(": text_tower.ngram_max: must be between 3 and 16, file has 2"), std::string::npos);
  replace("model.toml", "ngram_max = 2", "ngram_max = 5");
  replace("model.toml", "vocab = \"text_vocab.txt\"", "vocab = \"../text_vocab.txt\"");
  EXPECT_NE(open_error().find(": text_tower.vocab: \"../text_vocab.txt\" must be a file name in the package directory"),
            std::string::npos);
  replace("model.toml", "vocab = \"../text_vocab.txt\"", "vocab = \"text_vocab.txt\"");
  replace("model.toml", "\"text_tower.safetensors\"", "\"generator.safetensors\"");
  EXPECT_NE(open_error().find(": text_tower.weights: \"generator.safetensors\" is also in package.weights"), std::string::npos);
}

}  // namespace
}  // namespace continuo::model
