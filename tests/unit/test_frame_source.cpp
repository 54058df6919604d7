#include "engine/frame_source.hpp"

#include <gtest/gtest.h>

#include <array>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/model_registry.hpp"
#include "tests/doubles/doubles.hpp"

namespace continuo {
namespace {

using doubles::counter_sample;

constexpr std::size_t kFrameSamples = 1920;

std::unique_ptr<Model> load_counter() {
  ModelRegistry registry;
  doubles::register_test_doubles(registry);
  return registry.load("double:counter");
}

// Asserts frame is the counter double's samples first .. first + frames - 1, bit for bit.
void expect_counter(std::span<const float> frame, std::uint64_t first) {
  ASSERT_EQ(frame.size(), kFrameSamples * 2);
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    ASSERT_EQ(frame[2 * i], counter_sample(first + i, 0)) << "sample " << first + i;
    ASSERT_EQ(frame[2 * i + 1], counter_sample(first + i, 1)) << "sample " << first + i;
  }
}

class FrameSourceTest : public testing::Test {
 protected:
  std::unique_ptr<Model> model_ = load_counter();
  ControlState control_{ControlSnapshot{}};
};

TEST_F(FrameSourceTest, AtTheModelRatePassesSamplesBitExact) {
  FrameSource source(*model_, control_, 48000, ResamplerQuality::best);
  for (std::uint64_t f = 0; f < 40; ++f) expect_counter(source.next_frame(), f * kFrameSamples);
  EXPECT_EQ(source.frames(), 40u);
}

TEST_F(FrameSourceTest, AtAnotherRateOutputFollowsTheRatio) {
  constexpr int kFrames = 200;
  FrameSource source(*model_, control_, 44100, ResamplerQuality::medium);
  std::size_t total_samples = 0;
  for (int f = 0; f < kFrames; ++f) {
    const std::span<const float> frame = source.next_frame();
    ASSERT_EQ(frame.size() % 2, 0u);
    total_samples += frame.size();
  }
  const double per_frame = static_cast<double>(total_samples / 2) / kFrames;
  EXPECT_NEAR(per_frame, 1920.0 * 44100 / 48000, 1.0);
  EXPECT_EQ(source.output_rate(), 44100);
}

TEST_F(FrameSourceTest, SwitchingBackToTheModelRateIsBitExactAgain) {
  FrameSource source(*model_, control_, 44100, ResamplerQuality::fastest);
  source.next_frame();
  source.set_output_rate(48000);
  expect_counter(source.next_frame(), kFrameSamples);
}

TEST_F(FrameSourceTest, StepTimesOneEntryPerFrame) {
  FrameSource source(*model_, control_, 48000, ResamplerQuality::best);
  for (int f = 0; f < 7; ++f) source.next_frame();
  EXPECT_EQ(source.step_ms().count(), 7u);
}

// Writes silence and remembers what control it was stepped with.
class RecordingModel final : public Model {
 public:
  RecordingModel() { info_.name = "recording"; }
  const ModelInfo& info() const override { return info_; }
  void reset(std::uint64_t) override {}
  void step(const ControlSnapshot& control, std::span<float> out) override {
    versions.push_back(control.version);
    first_tokens.push_back(control.style_tokens[0]);
    std::fill(out.begin(), out.end(), 0.0f);
    // Stage times that tell the steps apart: step n reports n and 10 n ms.
    const double n = static_cast<double>(versions.size());
    stages_ = {StageTime{"encoder", n}, StageTime{"codec", 10.0 * n}};
  }
  std::span<const StageTime> last_step_stages() const override { return stages_; }

  std::vector<std::uint64_t> versions;
  std::vector<int> first_tokens;

 private:
  ModelInfo info_;
  std::array<StageTime, 2> stages_{};
};

TEST_F(FrameSourceTest, ModelSeesTheControlInForceAtEachFrameBoundary) {
  RecordingModel model;
  FrameSource source(model, control_, 48000, ResamplerQuality::best);
  const auto set_token = [this](int value) {
    control_.update([value](ControlSnapshot& c) { c.style_tokens[0] = value; });
  };

  source.next_frame();
  set_token(5);
  source.next_frame();
  source.next_frame();
  set_token(6);
  set_token(7);
  source.next_frame();

  EXPECT_EQ(model.versions, (std::vector<std::uint64_t>{0, 1, 1, 3}));
  EXPECT_EQ(model.first_tokens, (std::vector<int>{-1, 5, 5, 7}));
}

TEST_F(FrameSourceTest, CollectsTheModelsStageTimes) {
  RecordingModel model;
  FrameSource source(model, control_, 48000, ResamplerQuality::best);
  for (int f = 0; f < 4; ++f) source.next_frame();
  const std::vector<StagePercentiles> stages = source.stage_percentiles();
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].stage, "encoder");
  EXPECT_EQ(stages[0].p50, 2.0);   // of 1, 2, 3, 4 ms
  EXPECT_EQ(stages[0].p99, 4.0);
  EXPECT_EQ(stages[1].stage, "codec");
  EXPECT_EQ(stages[1].p99, 40.0);
}

}  // namespace
}  // namespace continuo
