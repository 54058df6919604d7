#include "model/mrt2_model.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/text_tower.hpp"
#include "tests/fixture_arrays.hpp"
#include "tests/doubles/doubles.hpp"

#include <unistd.h>

namespace continuo::model {
namespace {

const std::filesystem::path kTinyPackage = std::filesystem::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny/package";

std::vector<float> render(Mrt2Model& model, const ControlSnapshot& control, int frames) {
  const ModelInfo& info = model.info();
  std::vector<float> audio;
  std::vector<float> frame(static_cast<std::size_t>(info.frame_samples * info.channels));
  for (int f = 0; f < frames; ++f) {
    model.step(control, frame);
    audio.insert(audio.end(), frame.begin(), frame.end());
  }
  return audio;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The tiny LM package with the tiny encoder fixture's codec: a package that can find its
// silence codes and encode audio as context.
const std::filesystem::path kWithEncoder =
    std::filesystem::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny_with_encoder";

TEST(Mrt2ModelTest, InfoComesFromThePackage) {
  Mrt2Model model(kTinyPackage, 0);
  EXPECT_EQ(model.info().frame_samples, 64);
  EXPECT_EQ(model.info().channels, 2);
  EXPECT_EQ(model.info().latency_samples, 64);  // the decoder's one-frame lookahead
  EXPECT_EQ(model.manifest().family, "mrt2");
}

TEST(Mrt2ModelTest, SameSeedSameMusicOtherSeedOtherMusic) {
  Mrt2Model model(kTinyPackage, 0);
  const ControlSnapshot control;
  model.reset(1);
  const std::vector<float> first = render(model, control, 30);
  model.reset(1);
  EXPECT_EQ(render(model, control, 30), first);
  model.reset(2);
  EXPECT_NE(render(model, control, 30), first);
}

TEST(Mrt2ModelTest, PlaysAtTheOfficialScaleAndIsNotSilent) {
  Mrt2Model model(kTinyPackage, 0);
  model.reset(0);
  const std::vector<float> audio = render(model, ControlSnapshot{}, 40);
  float peak = 0.0f;
  for (float x : audio) peak = std::max(peak, std::abs(x));
  EXPECT_GT(peak, 0.0f);
  EXPECT_LE(peak, 1.0f);  // clip(0.5 x, -1, 1)
}

TEST(Mrt2ModelTest, ReportsEveryStage) {
  Mrt2Model model(kTinyPackage, 0);
  model.reset(0);
  render(model, ControlSnapshot{}, 1);
  const auto stages = model.last_step_stages();
  ASSERT_EQ(stages.size(), 4u);
  EXPECT_EQ(stages[0].stage, "encoder");
  EXPECT_EQ(stages[1].stage, "temporal");
  EXPECT_EQ(stages[2].stage, "depth");
  EXPECT_EQ(stages[3].stage, "codec");
  for (const StageTime& stage : stages) EXPECT_GE(stage.ms, 0.0);
}

TEST(Mrt2ModelTest, PrefillFeedsEncodedSilenceThroughTheContext) {
  Mrt2Model cold(kWithEncoder, 0);
  Mrt2Model warm(kWithEncoder, 20);
  EXPECT_FALSE(cold.silence().has_value());  // not asked for: not computed
  ASSERT_TRUE(warm.silence().has_value());
  cold.reset(3);
  warm.reset(3);
  const std::vector<float> from_cold = render(cold, ControlSnapshot{}, 20);
  const std::vector<float> from_warm = render(warm, ControlSnapshot{}, 20);
  EXPECT_NE(from_cold, from_warm);  // the context changed what the model plays
  warm.reset(3);
  EXPECT_EQ(render(warm, ControlSnapshot{}, 20), from_warm);  // and every reset prefills again
}

// The official JAX encoder's stream in the tiny encoder fixture: call c of the streaming
// encoder answers frame c - 1, call 0 the masked frame.
std::vector<int> official_codes_after_call0() {
  const std::string fixtures = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/mrt2/tiny_encoder/fixtures.safetensors";
  const auto codes = fixtures::read_array<std::int32_t>(fixtures, "codes");
  return {codes.begin() + kLmLevels, codes.end()};
}

std::vector<float> fixture_audio() {
  return fixtures::read_array<float>(std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/mrt2/tiny_encoder/fixtures.safetensors",
                                     "audio");
}

TEST(Mrt2ModelContext, TheAudioEncoderGivesTheOfficialCodesOfEveryFrameButTheLast) {
  const Mrt2Model model(kWithEncoder, 0);
  const std::shared_ptr<AudioEncoder> encoder = model.audio_encoder();
  ASSERT_NE(encoder, nullptr);
  EXPECT_EQ(encoder->sample_rate(), model.info().sample_rate);
  const std::vector<float> audio = fixture_audio();  // 40 frames
  const std::vector<int> tokens = encoder->encode(audio);
  EXPECT_EQ(tokens, official_codes_after_call0());  // 39 frames: the 40th's answer needs frame 41
  EXPECT_EQ(encoder->encode(audio), tokens);          // from a reset encoder every time
  // Half a frame more changes nothing: only whole frames are encoded.
  std::vector<float> longer = audio;
  longer.resize(audio.size() + 64, 0.5f);
  EXPECT_EQ(encoder->encode(longer), tokens);
  EXPECT_THROW(encoder->encode(std::span<const float>(audio).first(3 * 64)), std::invalid_argument);  // 1.5 frames
}

TEST(Mrt2ModelContext, APackageWithoutAnEncoderTakesNoAudio) {
  EXPECT_EQ(Mrt2Model(kTinyPackage, 0).audio_encoder(), nullptr);
}

// The silence prefill is a context of silence codes: reset_to_context with them plays what
// reset plays, bit for bit, whether they fill the whole prefill or are padded to it.
TEST(Mrt2ModelContext, AContextOfSilenceCodesPlaysAsTheSilencePrefill) {
  constexpr int kPrefill = 20;
  Mrt2Model model(kWithEncoder, kPrefill);
  ASSERT_TRUE(model.silence().has_value());
  model.reset(5);
  const std::vector<float> prefilled = render(model, ControlSnapshot{}, 12);
  for (const int frames : {kPrefill, 7, 1}) {
    std::vector<int> tokens;
    for (int f = 0; f < frames; ++f) tokens.insert(tokens.end(), model.silence()->begin(), model.silence()->end());
    model.reset_to_context(5, tokens);
    EXPECT_EQ(render(model, ControlSnapshot{}, 12), prefilled) << frames << " frames of context";
  }
}

TEST(Mrt2ModelContext, TheModelContinuesTheEncodedAudio) {
  Mrt2Model model(kWithEncoder, 20);
  const std::vector<int> played = model.audio_encoder()->encode(fixture_audio());
  model.reset(5);
  const std::vector<float> after_silence = render(model, ControlSnapshot{}, 12);
  model.reset_to_context(5, played);
  const std::vector<float> after_playing = render(model, ControlSnapshot{}, 12);
  EXPECT_NE(after_playing, after_silence);
  model.reset_to_context(5, played);
  EXPECT_EQ(render(model, ControlSnapshot{}, 12), after_playing);  // deterministic
  model.reset(5);
  EXPECT_EQ(render(model, ControlSnapshot{}, 12), after_silence);  // and a reset forgets it
}

TEST(Mrt2ModelContext, TokensThatAreNotWholeFramesOfCodesAreRefused) {
  Mrt2Model model(kWithEncoder, 0);
  EXPECT_THROW(model.reset_to_context(0, {}), std::invalid_argument);
  EXPECT_THROW(model.reset_to_context(0, std::vector<int>(13, 0)), std::invalid_argument);
  std::vector<int> out_of_range(12, 0);
  out_of_range[3] = 16;  // the tiny codebook holds 0..15
  EXPECT_THROW(model.reset_to_context(0, out_of_range), std::invalid_argument);
}

TEST(Mrt2ModelTest, WithoutAnEncoderThereIsNoPrefillButTheModelPlays) {
  Mrt2Model model(kTinyPackage, 500);
  EXPECT_FALSE(model.silence().has_value());
  model.reset(0);
  EXPECT_EQ(render(model, ControlSnapshot{}, 2).size(), 2u * 2u * 64u);
}

// Why the CUDA Depthformer cannot run the tiny package here ("" where it can).
std::string cuda_unavailable() {
  const ModelPackage package = ModelPackage::open(kTinyPackage);
  return cuda_availability(Depthformer(package).config()).unavailable;
}

TEST(Mrt2ModelTest, TheCpuBackendSaysSo) {
  EXPECT_EQ(Mrt2Model(kTinyPackage, 0, ModelBackend::cpu).info().backend, "cpu");
}

// auto takes CUDA exactly where it can run; elsewhere it is the CPU, sample for sample.
TEST(Mrt2ModelTest, TheAutoBackendIsCudaWhereItCanRunElseTheCpu) {
  const bool cuda = cuda_unavailable().empty();
  Mrt2Model automatic(kTinyPackage, 0, ModelBackend::automatic);
  EXPECT_EQ(automatic.info().backend, cuda ? "cuda" : "cpu");
  if (cuda) return;  // its audio: test_render_backend (label cuda)
  Mrt2Model cpu(kTinyPackage, 0, ModelBackend::cpu);
  automatic.reset(5);
  cpu.reset(5);
  EXPECT_EQ(render(automatic, ControlSnapshot{}, 20), render(cpu, ControlSnapshot{}, 20));
}

TEST(Mrt2ModelTest, TheCudaBackendWhereItCannotRunIsRefusedWithTheReason) {
  const std::string why = cuda_unavailable();
  if (why.empty()) GTEST_SKIP() << "CUDA can run here: test_render_backend (label cuda) plays it";
  ModelRegistry registry;
  register_packages(registry);
  try {
    registry.load(kTinyPackage.string(), ModelOptions{0, {}, ModelBackend::cuda});
    FAIL() << "loaded on CUDA where " << why;
  } catch (const BackendUnavailable& error) {  // not wrapped into a plain ModelError: exit 2
    EXPECT_EQ(std::string(error.what()), "model.backend = \"cuda\", but " + why);
  }
}

TEST(Mrt2ModelTest, RegistryLoadsADirectoryAsAPackage) {
  ModelRegistry registry;
  register_packages(registry);
  doubles::register_test_doubles(registry);
  EXPECT_EQ(registry.load(kTinyPackage.string())->info().frame_samples, 64);
  EXPECT_EQ(registry.load("package:" + kTinyPackage.string())->info().frame_samples, 64);
  EXPECT_EQ(registry.load("double:counter")->info().name, "double:counter");
}

TEST(Mrt2ModelTest, ABareNameIsAPackageInTheModelDirectories) {
  ModelRegistry registry;
  register_packages(registry);
  const ModelOptions options{0, {"/nonexistent/models", kTinyPackage.parent_path().parent_path()}};
  EXPECT_EQ(registry.load("tiny_text", options)->info().name, "mrt2_tiny_text");
  try {
    registry.load("mrt2_huge", options);
    FAIL() << "loaded a package that is in no model directory";
  } catch (const ModelError& error) {
    EXPECT_EQ(std::string(error.what()), "no model package named 'mrt2_huge'; looked in:\n  /nonexistent/models/mrt2_huge\n  " +
                                             (kTinyPackage.parent_path().parent_path() / "mrt2_huge").string() +
                                             "\nset model.dir, or give model.spec as a directory or kind:argument");
  }
  // Only a name: no path may reach outside the model directories this way.
  EXPECT_THROW(registry.load("../tiny_text", options), ModelError);
  EXPECT_THROW(registry.load(".hidden", options), ModelError);
}

TEST(Mrt2ModelTest, ModelDirsAreTheConfiguredOneOrTheStandardPlaces) {
  EXPECT_EQ(model_dirs("/srv/models"), std::vector<std::filesystem::path>{"/srv/models"});
  const auto dirs = model_dirs("");
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0].filename(), "models");
  EXPECT_EQ(dirs[2], "models");
}

TEST(Mrt2ModelTest, ABrokenPackageIsAModelErrorNamingIt) {
  ModelRegistry registry;
  register_packages(registry);
  try {
    registry.load("package:/nonexistent/pkg");
    FAIL() << "loaded a package that does not exist";
  } catch (const ModelError& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/pkg"), std::string::npos) << error.what();
  }
}

const std::filesystem::path kTinyTextPackage = std::filesystem::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny_text";

TEST(Mrt2ModelTest, APackageWithATextTowerTurnsPromptsIntoItsTokens) {
  Mrt2Model model(kTinyTextPackage, 0);
  ASSERT_NE(model.style_encoder(), nullptr);
  const TextTower tower = TextTower::open(kTinyTextPackage);
  const std::vector<continuo::WeightedPrompt> blend{{"warm jazz piano", 1.0f}, {"drums", 3.0f}};
  const std::vector<model::WeightedPrompt> views{{"warm jazz piano", 1.0f}, {"drums", 3.0f}};
  EXPECT_EQ(model.style_encoder()->tokens(blend), tower.quantize(tower.blend(views)));
  EXPECT_THROW(model.style_encoder()->tokens(std::vector<continuo::WeightedPrompt>{{"a", 0.0f}}), std::invalid_argument);
  // The tokens play: a frame steered by them differs from one with the style masked.
  ControlSnapshot steered;
  steered.style_tokens = model.style_encoder()->tokens(blend);
  model.reset(1);
  const auto with_style = render(model, steered, 3);
  model.reset(1);
  EXPECT_NE(render(model, ControlSnapshot{}, 3), with_style);
}

TEST(Mrt2ModelTest, APackageWithoutATextTowerHasNoStyleEncoder) {
  EXPECT_EQ(Mrt2Model(kTinyPackage, 0).style_encoder(), nullptr);
}

TEST(Mrt2ModelTest, ATowerWithMoreCodesThanTheStyleTableIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("continuo_tiny_text_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* file : {"depthformer.safetensors", "spectrostream.safetensors", "text_tower.safetensors", "text_vocab.txt"}) {
    std::filesystem::copy_file(kTinyTextPackage / file, dir / file, std::filesystem::copy_options::overwrite_existing);
  }
  std::string manifest = read_text(kTinyTextPackage / "model.toml");
  manifest.replace(manifest.find("codebook = 4"), 12, "codebook = 33");
  std::ofstream(dir / "model.toml") << manifest;
  try {
    Mrt2Model model(dir, 0);
    FAIL() << "loaded a tower whose tokens overflow the style table";
  } catch (const ModelFileError& error) {
    EXPECT_EQ(std::string(error.what()), (dir / "model.toml").string() +
                                             ": text_tower.codebook: 33 codes per level, but the Depthformer's style "
                                             "table takes tokens 0..31");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace continuo::model
