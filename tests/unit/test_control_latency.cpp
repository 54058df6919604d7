// Control latency bookkeeping (issue 5, timing): changes stamped on arrival, handed to the
// first frame that carries them, measured when the audio thread has read that frame's
// first sample. A fake clock and explicit ring positions stand in for time and JACK.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "engine/generator.hpp"
#include "engine/model_registry.hpp"
#include "engine/playback.hpp"
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
  Generator generator_{source_, ring_, 2 * kFrame};
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

// A reset is heard at once: the generator does not wait for room in the ring, marks what
// the ring holds stale, and playback fades it out and plays the fresh continuation.
TEST_F(GeneratorLatency, AResetDropsTheLookaheadAndIsHeardAfterTheFade) {
  PlaybackConfig config;
  config.fade_frames = 48;
  config.gain_ramp_frames = 0;
  config.resume_frames = kFrame / 2;
  Playback playback(ring_, config);
  ASSERT_TRUE(generator_.fill_once());
  clock_.now = TimePoint{} + 5ms;
  state_.update([](ControlSnapshot& c) { c.temperature = 0.7f; });
  ASSERT_TRUE(generator_.fill_once());  // frame 1 carries the change first; the reset drops it
  EXPECT_FALSE(generator_.fill_once()) << "the lookahead is full";
  std::vector<float> left(256), right(256);
  playback.render(left.data(), right.data(), 256);
  EXPECT_EQ(left[100], doubles::counter_sample(100, 0));

  generator_.request_reset(7);
  ASSERT_TRUE(generator_.fill_once()) << "a reset does not wait for the lookahead to drain";
  EXPECT_EQ(generator_.resets(), 1u);
  playback.render(left.data(), right.data(), 256);  // the fade-out, then the stale rest dropped
  EXPECT_EQ(left[0], doubles::counter_sample(256, 0) * (1.0f - 1.0f / 48.0f));
  EXPECT_EQ(left[47], 0.0f);
  EXPECT_EQ(left[200], 0.0f);
  EXPECT_EQ(generator_.frames_read(), 2 * kFrame) << "both old frames are gone";
  generator_.control_latency().resolve(generator_.frames_read(), TimePoint{} + 20ms, kRate);
  EXPECT_EQ(generator_.control_latency().count(), 0u) << "dropped unheard: not measured yet";
  playback.render(left.data(), right.data(), 256);  // the fresh continuation, from its first sample
  EXPECT_EQ(left[0], 0.0f);
  EXPECT_EQ(left[100], doubles::counter_sample(100, 0));
  EXPECT_EQ(playback.underruns(), 0u);

  generator_.reset_latency().resolve(generator_.frames_read(), TimePoint{} + 5ms, kRate);
  // The request was stamped by the real clock: only count it here.
  EXPECT_EQ(generator_.reset_latency().count(), 1u);
  generator_.control_latency().resolve(generator_.frames_read(), TimePoint{} + 30ms, kRate);
  ASSERT_EQ(generator_.control_latency().count(), 1u) << "the change is heard with the fresh frame";
  EXPECT_NEAR(generator_.control_latency().percentile(50), 30.0 - 5.0 - 256.0 * 1000.0 / kRate, 1e-9);
}

}  // namespace
}  // namespace continuo

namespace continuo {
namespace {

// The analysis feed is computed only while someone listens.
TEST_F(GeneratorLatency, FramesAreAnalysedOnlyWhileWanted) {
  generator_.set_analysis_wanted(false);
  ASSERT_TRUE(generator_.fill_once());
  EXPECT_EQ(generator_.frames_analysed(), 0u);
  EXPECT_EQ(generator_.analysis().size(), 0u);
  generator_.set_analysis_wanted(true);
  ASSERT_TRUE(generator_.fill_once());
  EXPECT_EQ(generator_.frames_analysed(), 1u);
  ASSERT_EQ(generator_.analysis().size(), 1u);
  play(kFrame + 1);
  std::array<AnalysisFrame, 4> heard;
  EXPECT_EQ(generator_.analysis().take_heard(generator_.frames_read(), heard), 1u) << "the frame at position 1920";
}

}  // namespace
}  // namespace continuo
