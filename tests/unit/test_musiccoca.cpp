// MusicCoCa (model/musiccoca): the graph ops against hand-worked TFLite results, graph files
// refused with their reason, and the converted stand-ins (text path and audio path) against
// ai-edge-litert's own outputs and Python sentencepiece's ids (tests/fixtures/musiccoca,
// written by tools/musiccoca/make_fixtures.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "model/mrt2_model.hpp"
#include "model/musiccoca/audio_path.hpp"
#include "model/musiccoca/graph.hpp"
#include "model/musiccoca/graph_ops.hpp"
#include "model/musiccoca/quantizer.hpp"
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

TEST(MusicCocaOps, MaximumBroadcastsAndLogIsNatural) {
  EXPECT_EQ(binary(Binary::maximum, floats({3}, {-1, 2, 0.5f}), floats({1}, {1})).f, (std::vector<float>{1, 2, 1}));
  const Value y = unary(Unary::log, floats({3}, {1, std::exp(2.0f), 0}));
  EXPECT_EQ(y.f[0], 0.0f);
  EXPECT_NEAR(y.f[1], 2.0f, 1e-6);
  EXPECT_EQ(y.f[2], -std::numeric_limits<float>::infinity());
}

TEST(MusicCocaOps, PadPutsZerosBeforeAndAfterEachAxis) {
  const Value x = floats({2, 2}, {1, 2, 3, 4});
  const Value y = pad(x, ints({2, 2}, {1, 0, 0, 2}));
  EXPECT_EQ(y.shape, (Dims{3, 4}));
  EXPECT_EQ(y.f, (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}));
  EXPECT_EQ(pad(ints({2}, {7, 8}), ints({1, 2}, {1, 1})).i, (std::vector<std::int32_t>{0, 7, 8, 0}));
  EXPECT_THROW(pad(x, ints({2, 2}, {-1, 0, 0, 0})), std::invalid_argument);
  EXPECT_THROW(pad(x, ints({1, 2}, {1, 1})), std::invalid_argument);
}

TEST(MusicCocaOps, StridedSliceWithMasksNegativeIndicesAndStrides) {
  const Value x = floats({2, 4}, {0, 1, 2, 3, 10, 11, 12, 13});
  using V = std::vector<std::int32_t>;
  // Rows from the start (begin mask), columns 1.. every 2.
  const Value every_other = strided_slice(x, V{5, 1}, V{2, 4}, V{1, 2}, {0b01, 0, 0});
  EXPECT_EQ(every_other.shape, (Dims{2, 2}));
  EXPECT_EQ(every_other.f, (std::vector<float>{1, 3, 11, 13}));
  // The last row (shrunk away), the last three columns counted from the end, to the end.
  const Value tail = strided_slice(x, V{-1, -3}, V{0, 0}, V{1, 1}, {0, 0b10, 0b01});
  EXPECT_EQ(tail.shape, (Dims{3}));
  EXPECT_EQ(tail.f, (std::vector<float>{11, 12, 13}));
  // Backwards, with begin and end clamped as TFLite clamps them.
  EXPECT_EQ(strided_slice(x, V{0, 99}, V{1, -99}, V{1, -1}, {}).f, (std::vector<float>{3, 2, 1, 0}));
  EXPECT_EQ(strided_slice(x, V{0, 3}, V{1, 3}, V{1, 1}, {}).shape, (Dims{1, 0}));
  EXPECT_THROW(strided_slice(x, V{0, 0}, V{1, 1}, V{1, 0}, {}), std::invalid_argument);
  EXPECT_THROW(strided_slice(x, V{2, 0}, V{0, 0}, V{1, 1}, {0, 0, 0b01}), std::invalid_argument);
  EXPECT_THROW(strided_slice(x, V{0}, V{1}, V{1}, {}), std::invalid_argument);
}

TEST(MusicCocaOps, Conv2dValidStridedWithBias) {
  // One row of 5 samples, two filters of width 2 (a sum and a difference), stride 2.
  const Value x = floats({1, 1, 5, 1}, {1, 2, 3, 4, 5});
  const Value filter = floats({2, 1, 2, 1}, {1, 1, 1, -1});
  const Value bias = floats({2}, {0.5f, 0});
  const Value y = conv_2d(x, filter, &bias, {1, 2, 1, 1, false});
  EXPECT_EQ(y.shape, (Dims{1, 1, 2, 2}));
  EXPECT_EQ(y.f, (std::vector<float>{3.5f, -1, 7.5f, -1}));
  EXPECT_THROW(conv_2d(x, floats({1, 1, 6, 1}, std::vector<float>(6, 1)), nullptr, {}), std::invalid_argument);
  EXPECT_THROW(conv_2d(x, floats({1, 1, 2, 2}, {1, 1, 1, 1}), nullptr, {}), std::invalid_argument);  // channels
}

TEST(MusicCocaOps, Conv2dSamePadsTheOddPixelAfterAndDilates) {
  // 2x2 input, 2 channels; a 2x2 filter summing the first channel: SAME pads one row and one
  // column after (TFLite puts the odd padding after), so the output is 2x2.
  const Value x = floats({1, 2, 2, 2}, {1, 100, 2, 100, 3, 100, 4, 100});
  const Value filter = floats({1, 2, 2, 2}, {1, 0, 1, 0, 1, 0, 1, 0});
  const Value y = conv_2d(x, filter, nullptr, {1, 1, 1, 1, true});
  EXPECT_EQ(y.shape, (Dims{1, 2, 2, 1}));
  EXPECT_EQ(y.f, (std::vector<float>{10, 6, 7, 4}));
  // Width 1 x 3 taps with dilation 2 over 5 samples: taps at 0, 2, 4.
  const Value row = floats({1, 1, 5, 1}, {1, 2, 3, 4, 5});
  const Value taps = floats({1, 1, 3, 1}, {1, 1, 1});
  EXPECT_EQ(conv_2d(row, taps, nullptr, {1, 1, 1, 2, false}).f, (std::vector<float>{9}));
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

TEST_F(MusicCocaGraphFile, AConvPaddingOtherThanSameOrValidIsRefused) {
  EXPECT_EQ(load_error(kTwoTensors, "[[ops]]\nkind = \"CONV_2D\"\ninputs = [0, 0, -1]\noutputs = [1]\npadding = \"FULL\"\n"),
            file() + ":17: ops[0].padding: \"FULL\" is not SAME or VALID");
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

Quantizer stand_in_quantizer() { return Quantizer::load(kPackage / "musiccoca_quantizer.graph.toml"); }

TextPath stand_in(const Quantizer& quantizer) {
  return TextPath::load(kPackage / "musiccoca_text_encoder.graph.toml", kPackage / "musiccoca_spm.model", quantizer);
}

AudioPath stand_in_audio(const Quantizer& quantizer) {
  return AudioPath::load(kPackage / "musiccoca_audio_preprocessor.graph.toml", kPackage / "musiccoca_music_encoder.graph.toml",
                         quantizer);
}

std::vector<float> litert(const std::string& name) { return fixtures::read_array<float>(kFixture / "litert.safetensors", name); }

// max |got - expected| / max |expected|: the converter's measure.
float relative_error(const std::vector<float>& got, const std::vector<float>& expected) {
  float error = 0.0f, scale = 0.0f;
  for (std::size_t d = 0; d < expected.size(); ++d) {
    error = std::max(error, std::abs(got[d] - expected[d]));
    scale = std::max(scale, std::abs(expected[d]));
  }
  return error / scale;
}

TEST(MusicCocaParity, TokenisesAsPythonSentencepiece) {
  const TextPath path = stand_in(stand_in_quantizer());
  const auto texts = prompts();
  ASSERT_EQ(texts.size(), 10u);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto expected = fixtures::read_array<float>(kFixture / "litert.safetensors", "ids." + std::to_string(i));
    const auto ids = path.ids(texts[i]);
    EXPECT_EQ(std::vector<float>(ids.begin(), ids.end()), expected) << texts[i];
  }
}

TEST(MusicCocaParity, EmbeddingsAndTokensMatchAiEdgeLitert) {
  const Quantizer quantizer = stand_in_quantizer();
  const TextPath path = stand_in(quantizer);
  const auto texts = prompts();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto expected = litert("embedding." + std::to_string(i));
    const auto embedding = path.embed(texts[i]);
    ASSERT_EQ(embedding.size(), expected.size());
    EXPECT_LE(relative_error(embedding, expected), 1e-4f) << texts[i];
    const StyleTokens got = quantizer.quantize(embedding);
    EXPECT_EQ(std::vector<float>(got.begin(), got.end()), litert("tokens." + std::to_string(i))) << texts[i];
  }
}

TEST(MusicCocaParity, AudioClipsEmbedAndQuantizeAsAiEdgeLitert) {
  const Quantizer quantizer = stand_in_quantizer();
  const AudioPath path = stand_in_audio(quantizer);
  ASSERT_EQ(path.window(), 4096u);
  std::vector<StyleTokens> distinct;
  for (std::size_t i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    const auto clip = litert("clip." + n);
    const auto embedding = path.embed_window(clip);
    const auto expected = litert("clip_embedding." + n);
    ASSERT_EQ(embedding.size(), expected.size());
    EXPECT_LE(relative_error(embedding, expected), 1e-4f) << "clip " << i;
    const StyleTokens got = quantizer.quantize(embedding);
    EXPECT_EQ(std::vector<float>(got.begin(), got.end()), litert("clip_tokens." + n)) << "clip " << i;
    if (std::find(distinct.begin(), distinct.end(), got) == distinct.end()) distinct.push_back(got);
  }
  EXPECT_GT(distinct.size(), 1u);  // the clips are told apart: the check is not of a constant
}

TEST(MusicCocaParity, ALongClipIsTheMeanOfItsWindowsFromTheEndAndAShortOneIsPadded) {
  const Quantizer quantizer = stand_in_quantizer();
  const AudioPath path = stand_in_audio(quantizer);
  const auto tone = litert("clip.0"), chord = litert("clip.2");
  std::vector<float> clip(100, 0.25f);  // a remainder before the whole windows: left out
  clip.insert(clip.end(), tone.begin(), tone.end());
  clip.insert(clip.end(), chord.begin(), chord.end());
  const auto a = path.embed_window(tone), b = path.embed_window(chord), mean = path.embed(clip);
  ASSERT_EQ(mean.size(), a.size());
  for (std::size_t d = 0; d < a.size(); ++d) EXPECT_NEAR(mean[d], 0.5f * (a[d] + b[d]), 1e-6f) << d;
  const std::vector<float> tail(chord.end() - 1000, chord.end());
  std::vector<float> padded(path.window() - tail.size(), 0.0f);
  padded.insert(padded.end(), tail.begin(), tail.end());
  EXPECT_EQ(path.embed(tail), path.embed_window(padded));
  EXPECT_THROW(path.embed(std::vector<float>{}), std::invalid_argument);
  EXPECT_THROW(path.embed_window(tail), std::invalid_argument);
}

// The load error of `load`, "loaded" when it loads.
template <typename Load>
std::string load_error(Load load) {
  try {
    load();
  } catch (const ModelFileError& error) {
    return error.what();
  }
  return "loaded";
}

TEST(MusicCocaParity, GraphsThatDoNotFitTogetherAreRefused) {
  const Quantizer quantizer = stand_in_quantizer();
  const fs::path quantizer_file = kPackage / "musiccoca_quantizer.graph.toml";
  const fs::path text = kPackage / "musiccoca_text_encoder.graph.toml";
  const fs::path preprocessor = kPackage / "musiccoca_audio_preprocessor.graph.toml";
  const fs::path encoder = kPackage / "musiccoca_music_encoder.graph.toml";
  // The quantizer where the encoder belongs: it takes floats, not ids.
  EXPECT_EQ(load_error([&] { TextPath::load(quantizer_file, kPackage / "musiccoca_spm.model", quantizer); }),
            quantizer_file.string() + " (text encoder): input 'embedding' is [1, 24], the text path needs int32 ids [1, L]");
  EXPECT_THROW(TextPath::load(text, text, quantizer), ModelFileError);  // not a SentencePiece model
  EXPECT_EQ(load_error([&] { AudioPath::load(text, encoder, quantizer); }),
            text.string() + " (audio preprocessor): input 'ids' is [1, 16], the audio path needs an f32 waveform [S] or [1, S]");
  // The preprocessor's features [1, 128, 16] where the encoder's embedding belongs.
  EXPECT_EQ(load_error([&] { AudioPath::load(preprocessor, preprocessor, quantizer); }),
            preprocessor.string() + " (music encoder): input 'waveform' [1, 4096] does not take the features [1, 128, 16] of " +
                preprocessor.string() + " (audio preprocessor)");
  EXPECT_EQ(load_error([&] { AudioPath::load(preprocessor, encoder, Quantizer::load(quantizer_file)); }), "loaded");
  EXPECT_EQ(load_error([&] { Quantizer::load(text); }),
            text.string() + " (quantizer): input 'ids' is not f32: it must take an embedding");
}

// ---- In a model package: the engine's StyleEncoder -------------------------------------------

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
const std::string kAudioKeys =
    "audio_preprocessor = \"musiccoca_audio_preprocessor.graph.toml\"\nmusic_encoder = \"musiccoca_music_encoder.graph.toml\"\n";

TEST(MusicCocaPackage, APackageWithMusicCocaBlendsPromptsThenQuantizes) {
  const fs::path dir = tiny_package_with(kSection);
  const Mrt2Model model(dir, 0);
  ASSERT_NE(model.style_encoder(), nullptr);
  const Quantizer quantizer = stand_in_quantizer();
  const TextPath path = stand_in(quantizer);
  const std::vector<continuo::WeightedPrompt> blend{{"warm jazz piano", 1.0f, {}}, {"dark techno", 3.0f, {}}};
  std::vector<float> mean(quantizer.dims());
  const auto jazz = path.embed("warm jazz piano"), techno = path.embed("dark techno");
  for (std::size_t d = 0; d < mean.size(); ++d) mean[d] = 0.25f * jazz[d] + 0.75f * techno[d];
  EXPECT_EQ(model.style_encoder()->tokens(blend), quantizer.quantize(mean));
  EXPECT_EQ(model.style_encoder()->tokens(blend), model.style_encoder()->tokens(blend));  // from the cache
  EXPECT_NE(model.style_encoder()->tokens(std::vector<continuo::WeightedPrompt>{{"warm jazz piano", 1.0f, {}}}),
            model.style_encoder()->tokens(std::vector<continuo::WeightedPrompt>{{"dark techno", 1.0f, {}}}));
  EXPECT_THROW(model.style_encoder()->tokens(std::vector<continuo::WeightedPrompt>{{"a", 0.0f, {}}}), std::invalid_argument);
  // Without the audio path: audio prompts are refused, saying why.
  EXPECT_NE(model.style_encoder()->audio_missing().find("no audio path: convert it with --audio-preprocessor"), std::string::npos);
  EXPECT_THROW(model.style_encoder()->embed_audio(litert("clip.0")), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(MusicCocaPackage, AudioAndTextPromptsBlendAsOneWeightedMeanQuantizedOnce) {
  const fs::path dir = tiny_package_with(kSection + kAudioKeys);
  const Mrt2Model model(dir, 0);
  const StyleEncoder& style = *model.style_encoder();
  EXPECT_EQ(style.audio_missing(), "");
  const Quantizer quantizer = stand_in_quantizer();
  const auto chord = litert("clip.2");
  const AudioEmbedding audio = style.embed_audio(chord);
  EXPECT_EQ(*audio, stand_in_audio(quantizer).embed(chord));
  const auto jazz = stand_in(quantizer).embed("warm jazz piano");
  std::vector<float> mean(quantizer.dims());
  for (std::size_t d = 0; d < mean.size(); ++d) mean[d] = 0.75f * (*audio)[d] + 0.25f * jazz[d];
  const std::vector<continuo::WeightedPrompt> blend{{"[audio]", 3.0f, audio}, {"warm jazz piano", 1.0f, {}}};
  EXPECT_EQ(style.tokens(blend), quantizer.quantize(mean));
  const auto wrong = std::make_shared<const std::vector<float>>(5, 0.0f);  // another model's embedding
  EXPECT_THROW(style.tokens(std::vector<continuo::WeightedPrompt>{{"[audio]", 1.0f, wrong}}), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(MusicCocaPackage, TheAudioPathNeedsBothItsFiles) {
  const fs::path dir = tiny_package_with(kSection + "music_encoder = \"musiccoca_music_encoder.graph.toml\"\n");
  try {
    load_manifest(dir);
    ADD_FAILURE() << "a music encoder without a preprocessor accepted";
  } catch (const ModelFileError& error) {
    EXPECT_NE(std::string(error.what()).find("musiccoca.audio_preprocessor: missing: the audio path needs audio_preprocessor and "
                                             "music_encoder"),
              std::string::npos)
        << error.what();
  }
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
