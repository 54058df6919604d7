#include "model/mrt2_model.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "tests/doubles/doubles.hpp"

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

TEST(Mrt2ModelTest, InfoComesFromThePackage) {
  Mrt2Model model(kTinyPackage);
  EXPECT_EQ(model.info().frame_samples, 64);
  EXPECT_EQ(model.info().channels, 2);
  EXPECT_EQ(model.info().latency_samples, 64);  // the decoder's one-frame lookahead
  EXPECT_EQ(model.manifest().family, "mrt2");
}

TEST(Mrt2ModelTest, SameSeedSameMusicOtherSeedOtherMusic) {
  Mrt2Model model(kTinyPackage);
  const ControlSnapshot control;
  model.reset(1);
  const std::vector<float> first = render(model, control, 30);
  model.reset(1);
  EXPECT_EQ(render(model, control, 30), first);
  model.reset(2);
  EXPECT_NE(render(model, control, 30), first);
}

TEST(Mrt2ModelTest, PlaysAtTheOfficialScaleAndIsNotSilent) {
  Mrt2Model model(kTinyPackage);
  model.reset(0);
  const std::vector<float> audio = render(model, ControlSnapshot{}, 40);
  float peak = 0.0f;
  for (float x : audio) peak = std::max(peak, std::abs(x));
  EXPECT_GT(peak, 0.0f);
  EXPECT_LE(peak, 1.0f);  // clip(0.5 x, -1, 1)
}

TEST(Mrt2ModelTest, ReportsEveryStage) {
  Mrt2Model model(kTinyPackage);
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

TEST(Mrt2ModelTest, RegistryLoadsADirectoryAsAPackage) {
  ModelRegistry registry;
  register_packages(registry);
  doubles::register_test_doubles(registry);
  EXPECT_EQ(registry.load(kTinyPackage.string())->info().frame_samples, 64);
  EXPECT_EQ(registry.load("package:" + kTinyPackage.string())->info().frame_samples, 64);
  EXPECT_EQ(registry.load("double:counter")->info().name, "double:counter");
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

}  // namespace
}  // namespace continuo::model
