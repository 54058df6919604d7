// MusicCoCa's text path (model/musiccoca): the graph ops against hand-worked TFLite results,
// graph files refused with their reason, and the converted stand-ins against ai-edge-litert's
// own outputs and Python sentencepiece's ids (tests/fixtures/musiccoca, written by
// tools/musiccoca/make_fixtures.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/mrt2_model.hpp"
#include "model/musiccoca/graph.hpp"
#include "model/musiccoca/graph_ops.hpp"
#include "model/musiccoca/text_path.hpp"
#include "model/safetensors.hpp"
#include "tests/fixture_arrays.hpp"

namespace continuo::model::musiccoca {
namespace {

namespace fs = std::filesystem;

const fs::path kFixture = fs::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/musiccoca";
const fs::path kPackage = kFixture / "package";

Value floats(Dims shape, std::vector<float> data) { return Value::floats(std::move(shape), std::move(data)); }
Value ints(Dims shape, std::vector<std::int32_t> data) { return Value::ints(std::move(shape), std::move(data)); }

// ---- Ops --------------------------------------------------------------------------------

TEST(MusicCocaOps, BinaryBroadcastsLikeNumpy) {
  const Value sum = binary(Binary::add, floats({2, 3}, {1, 2, 3, 4, 5, 6}), floats({3}, {10, 20, 30}));
  EXPECT_EQ(sum.shape, (Dims{2, 3}));
  EXPECT_EQ(sum.f, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  const Value outer = binary(Binary::mul, floats({2, 1}, {2, 3}), floats({1, 3}, {1, 10, 100}));
  EXPECT_EQ(outer.f, (std::vector<float>{2, 20, 200, 3, 30, 300}));
  EXPECT_EQ(binary(Binary::sub, floats({2}, {5, 7}), floats({1}, {1})).f, (std::vector<float>{4, 6}));
  EXPECT_EQ(binary(Binary::div, floats({2}, {3, 1}), floats({1}, {2})).f, (std::vector<float>{1.5f, 0.5f}));
  EXPECT_EQ(binary(Binary::squared_difference, floats({2}, {3, -1}), floats({1}, {1})).f, (std::vector<float>{4, 4}));
  EXPECT_THROW(binary(Binary::add, floats({2}, {1, 2}), floats({3}, {1, 2, 3})), std::invalid_argument);
}

TEST(MusicCocaOps, ReduceKeepsOrDropsTheReducedAxes) {
  const Value x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  const Value mean = reduce(Reduce::mean, x, std::vector<std::int32_t>{-1}, true);
  EXPECT_EQ(mean.shape, (Dims{2, 1}));
  EXPECT_EQ(mean.f, (std::vector<float>{2, 5}));
  const Value sum = reduce(Reduce::sum, x, std::vector<std::int32_t>{0}, false);
  EXPECT_EQ(sum.shape, (Dims{3}));
  EXPECT_EQ(sum.f, (std::vector<float>{5, 7, 9}));
  EXPECT_THROW(reduce(Reduce::sum, x, std::vector<std::int32_t>{2}, false), std::invalid_argument);
}

TEST(MusicCocaOps, FullyConnectedMultipliesEveryRowByTheOutInWeights) {
  const Value x = floats({2, 2}, {1, 2, 3, 4});
  const Value w = floats({3, 2}, {1, 0, 0, 1, 1, 1});  // [out, in]
  const Value b = floats({3}, {0.5f, 0, -1});
  const Value y = fully_connected(x, w, &b);
  EXPECT_EQ(y.shape, (Dims{2, 3}));
  EXPECT_EQ(y.f, (std::vector<float>{1.5f, 2, 2, 3.5f, 4, 6}));
  EXPECT_EQ(fully_connected(x, w, nullptr).f, (std::vector<float>{1, 2, 3, 3, 4, 7}));
  EXPECT_THROW(fully_connected(floats({3}, {1, 2, 3}), w, nullptr), std::invalid_argument);
}

TEST(MusicCocaOps, BatchMatmulWithAdjointsAndABroadcastBatch) {
  const Value a = floats({2, 1, 2}, {1, 2, 3, 4});
  const Value b = floats({1, 3, 2}, {1, 0, 0, 1, 1, 1});  // adj_y: used as [2, 3]
  const Value y = batch_matmul(a, b, false, true);
  EXPECT_EQ(y.shape, (Dims{2, 1, 3}));
  EXPECT_EQ(y.f, (std::vector<float>{1, 2, 3, 3, 4, 7}));
  const Value at = batch_matmul(floats({2, 1}, {1, 2}), floats({2, 2}, {1, 2, 3, 4}), true, false);
  EXPECT_EQ(at.f, (std::vector<float>{7, 10}));
  EXPECT_THROW(batch_matmul(a, b, false, false), std::invalid_argument);
}

TEST(MusicCocaOps, SoftmaxOverTheLastAxisWithBeta) {
  const Value p = softmax(floats({2, 2}, {0, std::log(2.0f), 5, 5}), 1.0f);
  EXPECT_NEAR(p.f[0], 1.0f / 3, 1e-6);
  EXPECT_NEAR(p.f[1], 2.0f / 3, 1e-6);
  EXPECT_NEAR(p.f[2], 0.5f, 1e-6);
  EXPECT_NEAR(softmax(floats({2}, {0, std::log(2.0f)}), 2.0f).f[1], 0.8f, 1e-6);  // 4 / (1 + 4)
}

TEST(MusicCocaOps, TransposeAndReshape) {
  const Value x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  const Value t = transpose(x, std::vector<std::int32_t>{1, 0});
  EXPECT_EQ(t.shape, (Dims{3, 2}));
  EXPECT_EQ(t.f, (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_THROW(transpose(x, std::vector<std::int32_t>{0, 0}), std::invalid_argument);
  EXPECT_EQ(reshape(x, {3, 2}).f, x.f);
  EXPECT_THROW(reshape(x, {4, 2}), std::invalid_argument);
}

TEST(MusicCocaOps, GatherPicksRowsAndRefusesIndicesOutOfRange) {
  const Value table = floats({3, 2}, {0, 1, 10, 11, 20, 21});
  const Value rows = gather(table, ints({2, 2}, {2, 0, 1, 1}), 0);
  EXPECT_EQ(rows.shape, (Dims{2, 2, 2}));
  EXPECT_EQ(rows.f, (std::vector<float>{20, 21, 0, 1, 10, 11, 10, 11}));
  EXPECT_EQ(gather(table, ints({1}, {1}), 1).f, (std::vector<float>{1, 11, 21}));
  EXPECT_THROW(gather(table, ints({1}, {3}), 0), std::invalid_argument);
  EXPECT_THROW(gather(table, ints({1}, {-1}), 0), std::invalid_argument);
}

TEST(MusicCocaOps, ArgMinTakesTheFirstOfEqualMinima) {
  const Value i = arg_min(floats({2, 3}, {3, 1, 1, -2, 0, -2}), 1);
  EXPECT_EQ(i.type, Value::Type::i32);
  EXPECT_EQ(i.shape, (Dims{2}));
  EXPECT_EQ(i.i, (std::vector<std::int32_t>{1, 0}));
}

TEST(MusicCocaOps, ConcatenationJoinsAlongTheAxis) {
  const Value a = ints({2, 1}, {1, 2}), b = ints({2, 2}, {3, 4, 5, 6});
  const std::vector<const Value*> parts{&a, &b};
  const Value joined = concatenation(parts, 1);
  EXPECT_EQ(joined.shape, (Dims{2, 3}));
  EXPECT_EQ(joined.i, (std::vector<std::int32_t>{1, 3, 4, 2, 5, 6}));
  EXPECT_THROW(concatenation(parts, 0), std::invalid_argument);
}

TEST(MusicCocaOps, UnaryOps) {
  const Value x = floats({2}, {0.5f, 4});
  EXPECT_EQ(unary(Unary::tanh, x).f, (std::vector<float>{std::tanh(0.5f), std::tanh(4.0f)}));
  EXPECT_EQ(unary(Unary::rsqrt, x).f, (std::vector<float>{1 / std::sqrt(0.5f), 0.5f}));
  EXPECT_EQ(unary(Unary::sqrt, x).f, (std::vector<float>{std::sqrt(0.5f), 2}));
}

TEST(MusicCocaOps, GeluExactAndTanhForm) {
  // Φ(1) = 0.841344746, Φ(-1) = 0.158655254: GELU(x) = x·Φ(x).
  const Value exact = unary(Unary::gelu, floats({3}, {1, -1, 0}));
  EXPECT_NEAR(exact.f[0], 0.841344746f, 1e-6);
  EXPECT_NEAR(exact.f[1], -0.158655254f, 1e-6);
  EXPECT_EQ(exact.f[2], 0.0f);
  // The tanh form at 1: 0.5·(1 + tanh(0.7978845608·1.044715)) = 0.841191990.
  EXPECT_NEAR(unary(Unary::gelu_tanh, floats({1}, {1})).f[0], 0.841191990f, 1e-6);
}

// ---- Graph files --------------------------------------------------------------------------

class MusicCocaGraphFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("continuo_musiccoca_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    fs::copy_file(kPackage / "musiccoca_quantizer.safetensors", dir_ / "w.safetensors");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The load error of a graph whose tensors are `tensors` and ops `ops` (TOML text).
  std::string load_error(const std::string& tensors, const std::string& ops, const std::string& io = "inputs = [0]\noutputs = [1]\n") {
    std::ofstream(dir_ / "g.graph.toml") << "format = \"continuo-graph-1\"\nweights = \"w.safetensors\"\n" << io << tensors << ops;
    try {
      Graph::load(dir_ / "g.graph.toml");
    } catch (const ModelFileError& error) {
      return error.what();
    }
    return "loaded";
  }
  std::string file() const { return (dir_ / "g.graph.toml").string(); }

  fs::path dir_;
};

const std::string kTwoTensors =
    "[[tensors]]\nname = \"x\"\ntype = \"f32\"\nshape = [2]\n"
    "[[tensors]]\nname = \"y\"\ntype = \"f32\"\nshape = [2]\n";

TEST_F(MusicCocaGraphFile, AGoodGraphLoadsAndRuns) {
  ASSERT_EQ(load_error(kTwoTensors, "[[ops]]\nkind = \"TANH\"\ninputs = [0]\noutputs = [1]\n"), "loaded");
  const Graph graph = Graph::load(dir_ / "g.graph.toml");
  std::vector<Value> in;
  in.push_back(floats({2}, {0, 1}));
  EXPECT_EQ(graph.run(std::move(in))[0].f, (std::vector<float>{0, std::tanh(1.0f)}));
  std::vector<Value> wrong;
  wrong.push_back(floats({3}, {0, 1, 2}));
  EXPECT_THROW(graph.run(std::move(wrong)), std::invalid_argument);
}

TEST_F(MusicCocaGraphFile, AnOpContinuoDoesNotRunIsNamed) {
  EXPECT_EQ(load_error(kTwoTensors, "[[ops]]\nkind = \"CUMSUM\"\ninputs = [0]\noutputs = [1]\n"),
            file() + ":14: ops[0].kind: op \"CUMSUM\" is not one continuo runs");
}

TEST_F(MusicCocaGraphFile, ATensorReadBeforeItIsWrittenIsRefused) {
  EXPECT_EQ(load_error(kTwoTensors, "[[ops]]\nkind = \"TANH\"\ninputs = [1]\noutputs = [1]\n", "inputs = []\noutputs = [1]\n"),
            file() + ":15: ops[0].inputs: tensor 1 is read before anything writes it");
}

TEST_F(MusicCocaGraphFile, AConstantOfAnotherShapeIsRefused) {
  EXPECT_EQ(load_error("[[tensors]]\nname = \"c\"\ntype = \"f32\"\nshape = [5]\nconstant = \"t2\"\n", "", "inputs = []\noutputs = []\n"),
            file() + ":9: tensors[0].constant: constant 't2' is [1] in the weights, [5] here");
}

TEST_F(MusicCocaGraphFile, AnIndexOutOfRangeIsRefused) {
  EXPECT_EQ(load_error(kTwoTensors, "[[ops]]\nkind = \"TANH\"\ninputs = [7]\noutputs = [1]\n"),
            file() + ":15: ops[0].inputs: tensor 7 out of range");
}

// ---- The converted stand-ins against ai-edge-litert -----------------------------------------

std::vector<std::string> prompts() {
  std::ifstream in(kFixture / "prompts.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TextPath stand_in() {
  return TextPath::load(kPackage / "musiccoca_text_encoder.graph.toml", kPackage / "musiccoca_quantizer.graph.toml",
                        kPackage / "musiccoca_spm.model");
}

TEST(MusicCocaParity, TokenisesAsPythonSentencepiece) {
  const TextPath path = stand_in();
  const auto texts = prompts();
  ASSERT_EQ(texts.size(), 10u);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto expected = fixtures::read_array<float>(kFixture / "litert.safetensors", "ids." + std::to_string(i));
    const auto ids = path.ids(texts[i]);
    EXPECT_EQ(std::vector<float>(ids.begin(), ids.end()), expected) << texts[i];
  }
}

TEST(MusicCocaParity, EmbeddingsAndTokensMatchAiEdgeLitert) {
  const TextPath path = stand_in();
  const auto texts = prompts();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto expected = fixtures::read_array<float>(kFixture / "litert.safetensors", "embedding." + std::to_string(i));
    const auto embedding = path.embed(texts[i]);
    ASSERT_EQ(embedding.size(), expected.size());
    float error = 0.0f, scale = 0.0f;
    for (std::size_t d = 0; d < expected.size(); ++d) {
      error = std::max(error, std::abs(embedding[d] - expected[d]));
      scale = std::max(scale, std::abs(expected[d]));
    }
    EXPECT_LE(error / scale, 1e-4f) << texts[i];
    const auto tokens = fixtures::read_array<float>(kFixture / "litert.safetensors", "tokens." + std::to_string(i));
    const StyleTokens got = path.quantize(embedding);
    EXPECT_EQ(std::vector<float>(got.begin(), got.end()), tokens) << texts[i];
  }
}

TEST(MusicCocaParity, GraphsThatDoNotFitTogetherAreRefused) {
  // The quantizer where the encoder belongs: it takes floats, not ids.
  const fs::path quantizer = kPackage / "musiccoca_quantizer.graph.toml";
  try {
    TextPath::load(quantizer, quantizer, kPackage / "musiccoca_spm.model");
    ADD_FAILURE() << "a quantizer loaded as the text encoder";
  } catch (const ModelFileError& error) {
    EXPECT_EQ(std::string(error.what()), quantizer.string() + " (text encoder): input 'embedding' is [1, 24], the text "
                                         "path needs int32 ids [1, L]");
  }
  EXPECT_THROW(TextPath::load(kPackage / "musiccoca_text_encoder.graph.toml", kPackage / "musiccoca_quantizer.graph.toml",
                              kPackage / "musiccoca_text_encoder.graph.toml"),
               ModelFileError);
}

// ---- In a model package: the engine's TextStyle -------------------------------------------

// The tiny LM package plus the converted stand-ins, with `section` appended to model.toml.
fs::path tiny_package_with(const std::string& section) {
  const fs::path tiny = fs::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny/package";
  const fs::path dir = fs::temp_directory_path() / ("continuo_musiccoca_pkg_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(tiny)) fs::copy_file(entry.path(), dir / entry.path().filename());
  for (const auto& entry : fs::directory_iterator(kPackage)) fs::copy_file(entry.path(), dir / entry.path().filename());
  std::ofstream(dir / "model.toml", std::ios::app) << section;
  return dir;
}

const std::string kSection =
    "\n[musiccoca]\ntext_encoder = \"musiccoca_text_encoder.graph.toml\"\n"
    "quantizer = \"musiccoca_quantizer.graph.toml\"\nspm = \"musiccoca_spm.model\"\n";

TEST(MusicCocaPackage, APackageWithMusicCocaBlendsPromptsThenQuantizes) {
  const fs::path dir = tiny_package_with(kSection);
  const Mrt2Model model(dir, 0);
  ASSERT_NE(model.text_style(), nullptr);
  const TextPath path = stand_in();
  const std::vector<continuo::WeightedPrompt> blend{{"warm jazz piano", 1.0f}, {"dark techno", 3.0f}};
  std::vector<float> mean(path.dims());
  const auto jazz = path.embed("warm jazz piano"), techno = path.embed("dark techno");
  for (std::size_t d = 0; d < mean.size(); ++d) mean[d] = 0.25f * jazz[d] + 0.75f * techno[d];
  EXPECT_EQ(model.text_style()->tokens(blend), path.quantize(mean));
  EXPECT_EQ(model.text_style()->tokens(blend), model.text_style()->tokens(blend));  // from the cache
  EXPECT_NE(model.text_style()->tokens(std::vector<continuo::WeightedPrompt>{{"warm jazz piano", 1.0f}}),
            model.text_style()->tokens(std::vector<continuo::WeightedPrompt>{{"dark techno", 1.0f}}));
  EXPECT_THROW(model.text_style()->tokens(std::vector<continuo::WeightedPrompt>{{"a", 0.0f}}), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(MusicCocaPackage, ATextTowerAndMusicCocaTogetherAreRefused) {
  const fs::path dir = tiny_package_with(
      "\n[text_tower]\nweights = \"t.safetensors\"\nvocab = \"v.txt\"\nword_dims = 4\nhidden_dims = 4\nbuckets = 4\n"
      "ngram_min = 3\nngram_max = 5\nmax_words = 8\ncodebook = 4\n" + kSection);
  try {
    load_manifest(dir);
    ADD_FAILURE() << "both sections accepted";
  } catch (const ModelFileError& error) {
    EXPECT_NE(std::string(error.what()).find("musiccoca: a package has [text_tower] or [musiccoca], not both"), std::string::npos)
        << error.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace continuo::model::musiccoca
