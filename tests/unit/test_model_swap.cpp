#include "engine/model_swap.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/audio_ring.hpp"
#include "engine/frame_source.hpp"
#include "engine/generator.hpp"
#include "model/mrt2_model.hpp"
#include "tests/doubles/doubles.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;
using doubles::counter_sample;

const fs::path kFixtures = fs::path(CONTINUO_SOURCE_DIR) / "tests" / "fixtures" / "mrt2";

ModelRegistry full_registry() {
  ModelRegistry registry;
  model::register_packages(registry);
  doubles::register_test_doubles(registry);
  return registry;
}

// Pops everything readable.
std::vector<float> drain(AudioRing& ring) {
  std::vector<float> out(ring.readable_frames() * AudioRing::kChannels);
  ring.pop(out);
  return out;
}

// Counter samples first.. at frame i of audio (interleaved), bit for bit.
void expect_counter_from(std::span<const float> audio, std::uint64_t first) {
  for (std::size_t i = 0; i < audio.size() / 2; ++i) {
    ASSERT_EQ(audio[2 * i], counter_sample(first + i, 0)) << "frame " << i;
    ASSERT_EQ(audio[2 * i + 1], counter_sample(first + i, 1)) << "frame " << i;
  }
}

TEST(ModelPackageName, TakesBarePackageNamesOnly) {
  const std::vector<std::string> good{"tiny", "tiny_text", "mrt2-base.v2", "A9", std::string(128, 'x')};
  for (const std::string& name : good) EXPECT_EQ(check_package_name(name), "") << name;
  const std::vector<std::string> bad{"", ".", "..", ".hidden", "../tiny", "/etc/passwd", "models/tiny",
                                     "double:counter", "tiny text", "tiny\n", "tiny\\x", std::string(129, 'x')};
  for (const std::string& name : bad) {
    const std::string why = check_package_name(name);
    EXPECT_NE(why.find("not a model package name"), std::string::npos) << name << ": " << why;
  }
  // A long name is not echoed whole.
  EXPECT_LT(check_package_name(std::string(5000, '/')).size(), 300u);
}

TEST(ModelPackageName, TheRegistryLoadsNoPathAndNoKindByPackageName) {
  const ModelRegistry registry = full_registry();
  const ModelOptions options{0, {kFixtures}};
  // A directory that exists is still not a package name.
  EXPECT_THROW(registry.load_package((kFixtures / "tiny_text").string(), options), ModelError);
  EXPECT_THROW(registry.load_package("double:counter", options), ModelError);
  EXPECT_THROW(registry.load_package("..", options), ModelError);
  EXPECT_NE(registry.load_package("tiny_text", options), nullptr);
}

class GeneratorSwap : public testing::Test {
 protected:
  static constexpr std::size_t kLookahead = 3 * 1920;
  ModelRegistry registry_ = full_registry();
  std::unique_ptr<Model> first_ = registry_.load("double:counter");
  ControlState control_{ControlSnapshot{}};
  AudioRing ring_{kLookahead + 2 * 1920};
  FrameSource source_{*first_, control_, 48000, ResamplerQuality::medium};
  Generator generator_{source_, ring_, kLookahead};
};

TEST_F(GeneratorSwap, TheNextFrameComesFromTheNewModelAfterTheRingGoesStale) {
  while (generator_.fill_once()) {
  }
  const std::uint64_t before = ring_.readable_frames();
  std::unique_ptr<Model> second = registry_.load("double:counter,frame=960");
  second->reset(0);
  generator_.request_model(*second, 7);
  EXPECT_EQ(generator_.models_swapped(), 0u);  // at the next frame boundary, not before
  generator_.fill_once();
  EXPECT_EQ(generator_.models_swapped(), 1u);
  EXPECT_EQ(ring_.skip_to(), before);  // what the first model made fades out
  const std::vector<float> stale = drain(ring_);  // as playback drops it
  ASSERT_EQ(stale.size(), before * 2);
  expect_counter_from(stale, 0);
  // After it, the second model's frames of 960 from its own start.
  generator_.fill_once();
  const std::vector<float> fresh = drain(ring_);
  ASSERT_EQ(fresh.size(), 960u * 2);
  expect_counter_from(fresh, 0);
}

// fail_after=3,fail_for=2: steps 3 and 4 throw. The generator plays silence, retries after
// each second of it with a reset, and the third try (step 5) plays again from a fresh start.
TEST(GeneratorFailure, PlaysSilenceThenRecoversAfterAReset) {
  const ModelRegistry registry = full_registry();
  std::unique_ptr<Model> model = registry.load("double:counter,fail_after=3,fail_for=2");
  ControlState control{ControlSnapshot{}};
  AudioRing ring(4 * 1920);
  FrameSource source(*model, control, 48000, ResamplerQuality::medium);
  Generator generator(source, ring, 2 * 1920);
  std::vector<float> heard;
  const auto play = [&] {
    generator.fill_once();
    const std::vector<float> popped = drain(ring);
    heard.insert(heard.end(), popped.begin(), popped.end());
  };
  for (int i = 0; i < 3; ++i) play();
  EXPECT_FALSE(generator.failing());
  play();  // step 3 throws
  EXPECT_TRUE(generator.failing());
  EXPECT_EQ(generator.step_failures(), 1u);
  EXPECT_NE(generator.failure_reason().find("simulated device error at step 3"), std::string::npos)
      << generator.failure_reason();
  EXPECT_EQ(ring.skip_to(), 3u * 1920);  // the good audio before it fades out
  expect_counter_from(std::span<const float>(heard).first(3 * 1920 * 2), 0);
  // Silence until a retry succeeds: the first retry (step 4) fails quietly.
  while (generator.failing()) {
    ASSERT_LT(heard.size(), 20u * 48000) << "never recovered";
    play();
  }
  const std::size_t silent = heard.size() / 2 - 3 * 1920 - 1920;
  for (std::size_t i = 3 * 1920 * 2; i < heard.size() - 1920 * 2; ++i) ASSERT_EQ(heard[i], 0.0f) << i;
  EXPECT_GE(silent, 2u * 48000);  // two seconds: one failed retry, then the good one
  EXPECT_EQ(generator.step_failures(), 1u);  // one failure, however many retries
  EXPECT_EQ(generator.recoveries(), 1u);
  EXPECT_EQ(ring.skip_to(), heard.size() / 2 - 1920);  // the silence queued goes stale too
  expect_counter_from(std::span<const float>(heard).last(1920 * 2), 0);  // a fresh continuation
}

class ModelSwapTest : public testing::Test {
 protected:
  ModelSwapTest() { generator_.start(); }
  ~ModelSwapTest() override {
    swap_.close();
    generator_.stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // A models directory of tiny packages, broken ones made by the test.
  static fs::path make_dir() {
    const fs::path dir = fs::temp_directory_path() / ("continuo-swap-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::create_directory_symlink(kFixtures / "tiny" / "package", dir / "tiny");
    fs::create_directory_symlink(kFixtures / "tiny_text", dir / "tiny_text");
    fs::copy(kFixtures / "tiny" / "package", dir / "truncated");
    fs::resize_file(dir / "truncated" / "depthformer.safetensors", 5000);
    return dir;
  }

  std::string load(const std::string& name) {
    std::promise<std::string> result;
    const std::string refused = swap_.load_package(name, [&](const std::string& why) { result.set_value(why); });
    if (!refused.empty()) return "at once: " + refused;
    return result.get_future().get();
  }

  fs::path dir_ = make_dir();
  ModelRegistry registry_ = full_registry();
  std::unique_ptr<Model> first_ = registry_.load("double:counter");
  ControlState control_{ControlSnapshot{}};
  AudioRing ring_{8 * 1920};
  FrameSource source_{*first_, control_, 48000, ResamplerQuality::medium};
  Generator generator_{source_, ring_, 4 * 1920};
  std::vector<std::pair<std::string, bool>> swapped_;  // name, has a text tower
  std::function<void()> during_swap_ = [] {};
  ModelSwap swap_{registry_, generator_, std::move(first_), "double:counter",
                  ModelConfig{"double:counter", dir_.string(), 3, 0},
                  [this](const std::string& name, const Model& model) {
                    swapped_.emplace_back(name, model.style_encoder() != nullptr);
                    during_swap_();
                  }};
};

TEST_F(ModelSwapTest, ABrokenPackageIsRefusedAndTheModelPlayingPlaysOn) {
  const std::string why = load("truncated");
  EXPECT_NE(why.find("depthformer.safetensors"), std::string::npos) << why;
  EXPECT_EQ(generator_.models_swapped(), 0u);
  EXPECT_EQ(swap_.playing_name(), "double:counter");
  EXPECT_TRUE(swapped_.empty());
  EXPECT_NE(load("absent").find("no model package named 'absent'"), std::string::npos);
  EXPECT_EQ(load("../tiny").rfind("at once: not a model package name", 0), 0u);
}

TEST_F(ModelSwapTest, AGoodPackagePlaysAndItsTextTowerFollows) {
  EXPECT_EQ(load("tiny_text"), "");
  EXPECT_EQ(generator_.models_swapped(), 1u);
  EXPECT_EQ(swap_.playing_name(), "tiny_text");
  EXPECT_EQ(swap_.settings().spec, "tiny_text");
  EXPECT_EQ(swap_.settings().seed, 3u);  // the configured seed carries over
  EXPECT_EQ(load("tiny"), "");
  EXPECT_EQ(generator_.models_swapped(), 2u);
  const std::vector<std::pair<std::string, bool>> expected{{"tiny_text", true}, {"tiny", false}};
  EXPECT_EQ(swapped_, expected);
}

TEST_F(ModelSwapTest, OneLoadAtATime) {
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  std::promise<void> swapping;
  during_swap_ = [&] {  // holds the first load in its last step
    swapping.set_value();
    std::unique_lock lock(mutex);
    released.wait(lock, [&] { return release; });
  };
  std::promise<std::string> first;
  ASSERT_EQ(swap_.load_package("tiny", [&](const std::string& why) { first.set_value(why); }), "");
  swapping.get_future().wait();
  EXPECT_EQ(swap_.load_package("tiny_text", [](const std::string&) {}), "busy: still loading tiny");
  {
    const std::lock_guard lock(mutex);
    release = true;
  }
  released.notify_all();
  EXPECT_EQ(first.get_future().get(), "");
  swap_.close();
  EXPECT_EQ(swap_.load_package("tiny_text", [](const std::string&) {}), "shutting down");
}

}  // namespace
}  // namespace continuo
