// The Depthformer against the official JAX code: tests/fixtures/mrt2/tiny (104 frames of a
// tiny random-weight model, fp32), teacher-forced with the reference's samples; plus the
// package refusals and the runtime API.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "kernels/ops.hpp"
#include "model/depthformer.hpp"
#include "model/safetensors.hpp"
#include "tests/fixture_arrays.hpp"

namespace continuo::model {
namespace {

namespace fs = std::filesystem;

const fs::path kTiny = fs::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny";
constexpr std::size_t kFrames = 104;
constexpr float kTemperature = 1.3f;  // tiny/config.json
constexpr std::size_t kTopK = 5;

// The fixture arrays of one file, as doubles.
class Fixtures {
 public:
  explicit Fixtures(const fs::path& path) : bytes_(fixtures::read_file(path)) {}
  std::vector<double> get(const std::string& name) const { return fixtures::read_array_as_doubles(bytes_, name); }

 private:
  std::string bytes_;
};

FrameConditioning conditioning(const Fixtures& f, std::size_t t) {
  static const auto style = f.get("style_tokens"), notes = f.get("note_state"),
                    drum = f.get("drum"), cfg = f.get("cfg_tokens"),
                    cfg_drum = f.get("cfg_drum_token");
  FrameConditioning c;
  for (std::size_t l = 0; l < kStyleTokens; ++l)
    c.style_tokens[l] = static_cast<int>(style[t * kStyleTokens + l]);
  for (std::size_t p = 0; p < kPitches; ++p) c.notes[p] = static_cast<int>(notes[t * kPitches + p]);
  c.drum = static_cast<int>(drum[t]);
  c.cfg_style_token = static_cast<int>(cfg[2 * t]);
  c.cfg_notes_token = static_cast<int>(cfg[2 * t + 1]);
  c.cfg_drum_token = static_cast<int>(cfg_drum[t]);
  return c;
}

// max |ours − reference| / max |reference| of one stage over all frames.
struct Error {
  double diff = 0.0;
  double scale = 0.0;
  double relative() const { return scale > 0.0 ? diff / scale : diff; }
};

// Compares every observed stage with the fixture's arrays at the current frame.
class Comparer final : public DepthformerObserver {
 public:
  explicit Comparer(const Fixtures& f) : f_(f) {}

  std::size_t frame = 0;
  std::map<std::string, Error> errors;

  void encoder_output(std::span<const float> x) override { compare("enc_output", frame, x); }
  void temporal_block(std::size_t layer, Block block, std::span<const float> x) override {
    static constexpr const char* kNames[] = {"self_attention", "cross_attention", "ffn"};
    compare("temporal_l" + std::to_string(layer) + "_" + kNames[static_cast<int>(block)], frame, x);
  }
  void temporal_output(std::span<const float> x) override { compare("temporal_outputs", frame, x); }
  void depth_adapter(std::size_t level, std::span<const float> x) override {
    compare("depth_adapter", frame * kLmLevels + level, x);
  }
  void depth_layer(std::size_t level, std::size_t layer, std::span<const float> x) override {
    compare("depth_l" + std::to_string(layer), frame * kLmLevels + level, x);
  }
  void depth_final_norm(std::size_t level, std::span<const float> x) override {
    compare("depth_final_ln", frame * kLmLevels + level, x);
  }
  // The fixture holds all V logits of the step; ours are the level's slice.
  void logits(std::size_t level, std::span<const float> x) override {
    const auto& all = array("depth_logits");
    const std::size_t vocab = all.size() / (kFrames * kLmLevels);
    const std::size_t begin = (frame * kLmLevels + level) * vocab + 6 + level * x.size();
    accumulate("depth_logits", all.data() + begin, x);
  }

 private:
  const std::vector<double>& array(const std::string& name) {
    auto it = cache_.find(name);
    if (it == cache_.end()) it = cache_.emplace(name, f_.get(name)).first;
    return it->second;
  }
  void compare(const std::string& name, std::size_t row, std::span<const float> x) {
    accumulate(name, array(name).data() + row * x.size(), x);
  }
  void accumulate(const std::string& name, const double* reference, std::span<const float> x) {
    Error& e = errors[name];
    for (std::size_t i = 0; i < x.size(); ++i) {
      e.diff = std::max(e.diff, std::abs(static_cast<double>(x[i]) - reference[i]));
      e.scale = std::max(e.scale, std::abs(reference[i]));
    }
  }

  const Fixtures& f_;
  std::map<std::string, std::vector<double>> cache_;
};

// Replays the reference's Gumbel noise through kernels::sample_gumbel on our soft-capped
// logits, counts agreement with the reference's samples, and forces the reference's sample
// (teacher forcing) so every frame's input is the reference's.
class GumbelReplay final : public LevelPicker {
 public:
  explicit GumbelReplay(const Fixtures& f) : samples_(f.get("depth_samples")) {
    const auto gumbel = f.get("gumbel");
    gumbel_.assign(gumbel.begin(), gumbel.end());  // stored as float32: exact
  }

  std::size_t frame = 0;
  std::size_t matches = 0;
  std::size_t draws = 0;

  std::uint32_t pick(std::size_t level, std::span<const float> capped) override {
    const std::size_t codebook = capped.size();
    const kernels::SampleShape shape{codebook, kTopK, kTemperature};
    std::vector<std::uint32_t> scratch(kernels::sample_scratch_size(shape));
    const std::size_t row = frame * kLmLevels + level;
    const std::uint32_t ours = kernels::sample_gumbel(
        shape, capped.data(), gumbel_.data() + row * codebook, scratch.data());
    const auto reference = static_cast<std::uint32_t>(samples_[row] - 6 - level * codebook);
    ++draws;
    matches += ours == reference;
    return reference;
  }

 private:
  std::vector<float> gumbel_;
  std::vector<double> samples_;
};

TEST(DepthformerParity, TinyModelMatchesTheOfficialCodeOver104Frames) {
  const ModelPackage package = ModelPackage::open(kTiny / "package");
  Depthformer model(package);
  const Fixtures fixtures(kTiny / "fixtures.safetensors");
  Comparer comparer(fixtures);
  GumbelReplay replay(fixtures);
  const auto samples = fixtures.get("depth_samples");
  for (std::size_t t = 0; t < kFrames; ++t) {
    comparer.frame = replay.frame = t;
    const FrameCodes codes = model.step_traced(conditioning(fixtures, t), replay, &comparer);
    for (std::size_t l = 0; l < kLmLevels; ++l) {
      const double codebook = static_cast<double>(model.config().codebook);
      ASSERT_EQ(codes[l], samples[t * kLmLevels + l] - 6 - codebook * static_cast<double>(l));
    }
  }
  const std::vector<std::string> stages = {"enc_output",
                                           "temporal_l0_self_attention",
                                           "temporal_l0_cross_attention",
                                           "temporal_l0_ffn",
                                           "temporal_l1_self_attention",
                                           "temporal_l1_cross_attention",
                                           "temporal_l1_ffn",
                                           "temporal_outputs",
                                           "depth_adapter",
                                           "depth_l0",
                                           "depth_l1",
                                           "depth_final_ln",
                                           "depth_logits"};
  EXPECT_EQ(comparer.errors.size(), stages.size());
  for (const auto& stage : stages) {
    const Error& e = comparer.errors[stage];
    std::printf("  %-28s max|err| %.3g  relative %.3g\n", stage.c_str(), e.diff, e.relative());
    EXPECT_LE(e.relative(), 1e-4) << stage;
  }
  std::printf("  Gumbel replay: %zu / %zu samples reproduced\n", replay.matches, replay.draws);
  EXPECT_EQ(replay.draws, kFrames * kLmLevels);
  EXPECT_EQ(replay.matches, replay.draws);
}

// Runs free with seeded sampling: codes in range, reproducible after reset, stages timed.
TEST(DepthformerRuntime, SeededStepsAreReproducibleAfterReset) {
  const ModelPackage package = ModelPackage::open(kTiny / "package");
  Depthformer model(package);
  const Fixtures fixtures(kTiny / "fixtures.safetensors");
  const SamplingParams params{1.1f, 4, 42};
  std::vector<FrameCodes> first;
  for (std::size_t t = 0; t < 20; ++t)
    first.push_back(model.step(conditioning(fixtures, t), params));
  EXPECT_EQ(model.frame(), 20u);
  ASSERT_EQ(model.last_step_stages().size(), 3u);
  EXPECT_EQ(model.last_step_stages()[2].stage, "depth");
  EXPECT_GT(model.last_step_stages()[2].ms, 0.0);
  model.reset();
  for (std::size_t t = 0; t < 20; ++t) {
    const FrameCodes codes = model.step(conditioning(fixtures, t), params);
    EXPECT_EQ(codes, first[t]) << "frame " << t;
    for (const int code : codes) EXPECT_TRUE(code >= 0 && code < 16);
  }
}

TEST(DepthformerRuntime, RefusesOutOfRangeConditioningAndCodes) {
  const ModelPackage package = ModelPackage::open(kTiny / "package");
  Depthformer model(package);
  FrameConditioning bad;
  bad.notes[5] = 4;  // note states are -1..3
  EXPECT_THROW(model.encode(bad), std::out_of_range);
  FrameCodes codes{};
  codes[3] = 16;
  EXPECT_THROW(model.set_previous(codes), std::out_of_range);
}

// A copy of the tiny package whose weights lack `victim`, or hold it with its last
// dimension one shorter when `shrink`.
class DepthformerPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("continuo_depthformer_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& entry : fs::directory_iterator(kTiny / "package")) {
      fs::copy_file(entry.path(), dir_ / entry.path().filename());  // codec files as they are
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_weights(const std::string& victim, bool shrink) {
    const auto source = SafetensorsFile::open(kTiny / "package/depthformer.safetensors");
    std::string header = "{", data;
    for (const auto& name : source.names()) {
      const auto bytes = source.bytes(name);
      Shape shape = source.info(name).shape;
      std::size_t size = bytes.size();
      if (name == victim && !shrink) continue;
      if (name == victim) {
        size -= size / shape.back();
        --shape.back();
      }
      header += (header.size() > 1 ? "," : "") +
                ("\"" + name + "\":{\"dtype\":\"F32\",\"shape\":") + format_shape(shape) +
                ",\"data_offsets\":[" + std::to_string(data.size()) + "," +
                std::to_string(data.size() + size) + "]}";
      data.append(reinterpret_cast<const char*>(bytes.data()), size);
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::ofstream out(dir_ / "depthformer.safetensors", std::ios::binary | std::ios::trunc);
    const std::uint64_t length = header.size();
    out.write(reinterpret_cast<const char*>(&length), sizeof length);
    out << header << data;
  }

  std::string load_error() {
    try {
      const ModelPackage package = ModelPackage::open(dir_);
      Depthformer model(package);
    } catch (const ModelFileError& e) {
      return e.what();
    }
    return "(loaded)";
  }

  fs::path dir_;
};

TEST_F(DepthformerPackage, MissingTensorIsNamed) {
  write_weights("temporal.layers.1.cross_attn.v", false);
  EXPECT_EQ(
      load_error(),
      dir_.string() + ": tensor 'temporal.layers.1.cross_attn.v': missing (expected [64, 32])");
}

TEST_F(DepthformerPackage, WrongShapeIsNamed) {
  write_weights("depth.logits.w", true);
  const std::string error = load_error();
  EXPECT_NE(error.find("tensor 'depth.logits.w': expected [198, 48], file has [198, 47]"),
            std::string::npos)
      << error;
}

TEST_F(DepthformerPackage, MissingArchitectureKeyIsNamed) {
  write_weights("", false);
  std::string toml = fixtures::read_file(dir_ / "model.toml");
  const std::size_t at = toml.find("depth_heads = 3\n");
  ASSERT_NE(at, std::string::npos);
  toml.erase(at, std::string("depth_heads = 3\n").size());
  std::ofstream(dir_ / "model.toml") << toml;
  EXPECT_NE(load_error().find("model.toml: architecture.depth_heads: missing"), std::string::npos);
}

}  // namespace
}  // namespace continuo::model
