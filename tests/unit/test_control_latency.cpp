// Control latency bookkeeping (issue 5, timing): changes stamped on arrival, handed to the
// first frame that carries them, measured when the audio thread has read that frame's
// first sample. A fake clock and explicit ring positions stand in for time and JACK.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "engine/generator.hpp"
#include "engine/model_registry.hpp"
#include "engine/stats.hpp"
#include "tests/doubles/doubles.hpp"

namespace continuo {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

constexpr std::size_t kFrame = 1920;  // the counter double's frame at 48 kHz
constexpr int kRate = 48000;

struct FakeClock {
  TimePoint now{};
  ControlState::Clock fn() {
    return [this] { return now; };
  }
};

TEST(ControlStamps, EachChangeIsStampedOnArrivalAndCarriedByOneFrame) {
  FakeClock clock;
  ControlState state(ControlSnapshot{}, clock.fn());
  clock.now = TimePoint{} + 5ms;
  state.update([](ControlSnapshot& c) { c.temperature = 0.5f; });
  clock.now = TimePoint{} + 7ms;
  state.note_on(60);
  std::vector<ControlChange> carried;
  const ControlSnapshot taken = state.take_frame_snapshot(carried);
  ASSERT_EQ(carried.size(), 2u);
  EXPECT_EQ(carried[0].arrived, TimePoint{} + 5ms);
  EXPECT_EQ(carried[1].arrived, TimePoint{} + 7ms);
  EXPECT_EQ(carried[1].version, taken.version);  // the newest change is the version the frame saw
  // The onset turning into sustain is the model's bookkeeping, not a performer change.
  state.take_frame_snapshot(carried);
  EXPECT_TRUE(carried.empty());
}

TEST(ControlStamps, AFloodBetweenFramesKeepsABoundedNewestSet) {
  ControlState state(ControlSnapshot{});
  for (int i = 0; i < 5000; ++i) state.update([i](ControlSnapshot& c) { c.top_k = 1 + i % 1024; });
  std::vector<ControlChange> carried;
  const ControlSnapshot taken = state.take_frame_snapshot(carried);
  ASSERT_FALSE(carried.empty());
  EXPECT_LE(carried.size(), 1024u);
  EXPECT_EQ(carried.back().version, taken.version);
}

TEST(ControlLatencyWindow, MeasuresArrivalToTheFirstSampleRead) {
  ControlLatency latency;
  const std::vector<ControlChange> changes{{1, TimePoint{} + 10ms}};
  latency.frame_queued(changes, 9600);
  latency.resolve(9600, TimePoint{} + 100ms, kRate);  // the frame's first sample not read yet
  EXPECT_EQ(latency.count(), 0u);
  // Read 480 frames (10 ms) past the start by t = 110 ms: the first sample went at 100 ms.
  latency.resolve(9600 + 480, TimePoint{} + 110ms, kRate);
  ASSERT_EQ(latency.count(), 1u);
  EXPECT_NEAR(latency.percentile(50), 90.0, 1e-9);
}

TEST(ControlLatencyWindow, ResolvesInRingOrderAndNeverBelowZero) {
  ControlLatency latency;
  latency.frame_queued(std::vector<ControlChange>{{1, TimePoint{}}}, 0);
  latency.frame_queued(std::vector<ControlChange>{{2, TimePoint{} + 50ms}, {3, TimePoint{} + 60ms}}, 1920);
  latency.resolve(1920, TimePoint{} + 40ms, kRate);  // only the first frame has started
  ASSERT_EQ(latency.count(), 1u);
  EXPECT_NEAR(latency.percentile(50), 0.0, 1e-9);  // 40 ms after, 1920 frames (40 ms) read: 0
  latency.resolve(1921, TimePoint{} + 100ms, kRate);
  ASSERT_EQ(latency.count(), 3u);
  EXPECT_NEAR(latency.percentile(95), 50.0 - 1.0 / 48.0, 1e-6);
}

// The generator driven by hand, the "audio thread" popping the ring in between.
class GeneratorLatency : public testing::Test {
 protected:
  static std::unique_ptr<Model> load_counter() {
    ModelRegistry registry;
    doubles::register_test_doubles(registry);
    return registry.load("double:counter");
  }

  void play(std::size_t frames) {
    std::vector<float> out(frames * AudioRing::kChannels);
    ASSERT_EQ(ring_.pop(out), frames);
  }

  FakeClock clock_;
  std::unique_ptr<Model> model_ = load_counter();
  ControlState state_{ControlSnapshot{}, clock_.fn()};
  FrameSource source_{*model_, state_, kRate, ResamplerQuality::best};
  AudioRing ring_{4 * kFrame};
  Generator generator_{source_, ring_, 2 * kFrame, 48};
};

TEST_F(GeneratorLatency, AChangeIsMeasuredWhenItsFrameStartsPlaying) {
  ASSERT_TRUE(generator_.fill_once());  // frame 0 at ring position 0
  clock_.now = TimePoint{} + 1ms;
  state_.update([](ControlSnapshot& c) { c.temperature = 0.7f; });
  ASSERT_TRUE(generator_.fill_once());  // frame 1, position 1920, carries the change
  EXPECT_FALSE(generator_.fill_once());  // lookahead reached
  play(kFrame);
  EXPECT_EQ(generator_.frames_read(), kFrame);
  generator_.control_latency().resolve(generator_.frames_read(), TimePoint{} + 41ms, kRate);
  EXPECT_EQ(generator_.control_latency().count(), 0u);  // frame 1 not started
  play(kFrame / 2);
  generator_.control_latency().resolve(generator_.frames_read(), TimePoint{} + 61ms, kRate);
  ASSERT_EQ(generator_.control_latency().count(), 1u);
  EXPECT_NEAR(generator_.control_latency().percentile(50), 40.0, 1e-9);  // 61 - 1 - 20 ms read since
}

TEST_F(GeneratorLatency, AResetFadesOutRestartsTheModelAndFadesIn) {
  ASSERT_TRUE(generator_.fill_once());
  generator_.request_reset(7);
  ASSERT_TRUE(generator_.fill_once());  // the last old frame, faded out, then the reset
  EXPECT_EQ(generator_.resets(), 1u);
  std::vector<float> out(3 * kFrame * AudioRing::kChannels);
  ASSERT_EQ(ring_.pop(std::span(out).first(2 * kFrame * AudioRing::kChannels)), 2 * kFrame);
  ASSERT_TRUE(generator_.fill_once());  // the fresh continuation, faded in
  ASSERT_EQ(ring_.pop(std::span(out).subspan(2 * kFrame * AudioRing::kChannels)), kFrame);
  const auto sample = [&](std::size_t frame, int ch) { return out[frame * AudioRing::kChannels + ch]; };
  EXPECT_EQ(sample(kFrame, 0), doubles::counter_sample(kFrame, 0));  // old frame plays on ...
  EXPECT_EQ(sample(2 * kFrame - 1, 0), 0.0f);                        // ... down to zero
  EXPECT_EQ(sample(2 * kFrame, 0), 0.0f);                            // the new one from zero ...
  EXPECT_EQ(sample(2 * kFrame + 48, 0), doubles::counter_sample(48, 0));  // ... and from the top
}

}  // namespace
}  // namespace continuo
