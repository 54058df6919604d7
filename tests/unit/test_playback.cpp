#include "engine/playback.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/doubles/doubles.hpp"

namespace continuo {
namespace {

using doubles::counter_sample;

constexpr std::size_t kFade = 64;
constexpr std::size_t kRamp = 100;  // not a power of two, so float steps do not land exactly by luck
constexpr std::size_t kResume = 256;
constexpr float kHalfVolumeDb = -6.0206f;

PlaybackConfig test_config(float volume_db = 0.0f) {
  PlaybackConfig config;
  config.fade_frames = kFade;
  config.gain_ramp_frames = kRamp;
  config.resume_frames = kResume;
  config.volume_db = volume_db;
  return config;
}

struct Stereo {
  std::vector<float> left;
  std::vector<float> right;
};

// Renders in blocks of block_frames, as a JACK callback of that period would.
Stereo render(Playback& playback, std::size_t frames, std::size_t block_frames = 256) {
  Stereo out{std::vector<float>(frames), std::vector<float>(frames)};
  for (std::size_t at = 0; at < frames; at += block_frames) {
    const std::size_t n = std::min(block_frames, frames - at);
    playback.render(out.left.data() + at, out.right.data() + at, n);
  }
  return out;
}

// The counter double's samples first .. first + frames - 1.
void push_counter(AudioRing& ring, std::uint64_t first, std::size_t frames) {
  std::vector<float> data;
  for (std::uint64_t n = first; n < first + frames; ++n) {
    data.push_back(counter_sample(n, 0));
    data.push_back(counter_sample(n, 1));
  }
  ASSERT_EQ(ring.push(data), frames);
}

void push_constant(AudioRing& ring, float value, std::size_t frames) {
  std::vector<float> data(frames * AudioRing::kChannels, value);
  ASSERT_EQ(ring.push(data), frames);
}

// What sample i of a fade-in makes of in: in times i / fade_frames.
float faded_in(float in, std::size_t i) { return in * (static_cast<float>(i) / static_cast<float>(kFade)); }

// What the k-th frame (from 1) of the tail after an underrun makes of the last sample.
float faded_out(float last, std::size_t k) { return last * (1.0f - static_cast<float>(k) / static_cast<float>(kFade)); }

// Checks the first count frames of out are counter samples from first on, the first kFade
// of them faded in, bit for bit.
void expect_counter_faded_in(const Stereo& out, std::size_t count, std::uint64_t first) {
  for (std::size_t i = 0; i < count; ++i) {
    const float l = counter_sample(first + i, 0);
    const float r = counter_sample(first + i, 1);
    ASSERT_EQ(out.left[i], i < kFade ? faded_in(l, i) : l) << "frame " << i;
    ASSERT_EQ(out.right[i], i < kFade ? faded_in(r, i) : r) << "frame " << i;
  }
}

bool all_zero(const std::vector<float>& v, std::size_t from = 0) {
  for (std::size_t i = from; i < v.size(); ++i) {
    if (v[i] != 0.0f) return false;
  }
  return true;
}

class PlaybackTest : public testing::Test {
 protected:
  AudioRing ring_{16384};
};

TEST_F(PlaybackTest, SilentUntilResumeFramesAreBuffered) {
  Playback playback(ring_, test_config());
  push_constant(ring_, 0.5f, kResume - 1);
  const Stereo out = render(playback, 1000);
  EXPECT_TRUE(all_zero(out.left));
  EXPECT_TRUE(all_zero(out.right));
  EXPECT_FALSE(playback.playing());
  EXPECT_EQ(ring_.readable_frames(), kResume - 1);
  EXPECT_EQ(playback.underruns(), 0u);

  push_constant(ring_, 0.5f, 1);
  render(playback, 16);
  EXPECT_TRUE(playback.playing());
}

TEST_F(PlaybackTest, FadesInLinearlyThenPassesBitExact) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 2000);
  expect_counter_faded_in(render(playback, 2000), 2000, 0);
  EXPECT_EQ(playback.underruns(), 0u);
}

TEST_F(PlaybackTest, FadeInSpansSmallBlocks) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 500);
  expect_counter_faded_in(render(playback, 500, 7), 500, 0);
}

TEST_F(PlaybackTest, UnderrunPlaysWhatIsLeftThenDecaysTheLastSample) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, kResume);
  const std::size_t block = kResume + 40;  // the ring runs dry 40 frames before the end
  Stereo out = render(playback, block, block);
  const Stereo more = render(playback, 200, 200);
  out.left.insert(out.left.end(), more.left.begin(), more.left.end());
  out.right.insert(out.right.end(), more.right.begin(), more.right.end());

  expect_counter_faded_in(out, kResume, 0);
  EXPECT_EQ(playback.underruns(), 1u);
  EXPECT_FALSE(playback.playing());
  const float last_l = counter_sample(kResume - 1, 0);
  const float last_r = counter_sample(kResume - 1, 1);
  for (std::size_t k = 1; k <= kFade; ++k) {
    ASSERT_EQ(out.left[kResume - 1 + k], faded_out(last_l, k)) << "tail frame " << k;
    ASSERT_EQ(out.right[kResume - 1 + k], faded_out(last_r, k)) << "tail frame " << k;
  }
  EXPECT_TRUE(all_zero(out.left, kResume + kFade));
  EXPECT_TRUE(all_zero(out.right, kResume + kFade));
}

TEST_F(PlaybackTest, UnderrunAtABlockBoundaryDecaysTheLastSample) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, kResume);
  render(playback, kResume, kResume);
  const Stereo out = render(playback, kFade + 10, kFade + 10);
  EXPECT_EQ(playback.underruns(), 1u);
  const float last_l = counter_sample(kResume - 1, 0);
  for (std::size_t k = 1; k <= kFade; ++k) ASSERT_EQ(out.left[k - 1], faded_out(last_l, k)) << "tail frame " << k;
  EXPECT_TRUE(all_zero(out.left, kFade));
}

TEST_F(PlaybackTest, ResumesWithAFadeInOnceTheRingRefills) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, kResume);
  render(playback, kResume + kFade + 100);
  ASSERT_EQ(playback.underruns(), 1u);

  push_counter(ring_, kResume, kResume - 1);
  const Stereo waiting = render(playback, 300);
  EXPECT_TRUE(all_zero(waiting.left));
  EXPECT_FALSE(playback.playing());

  push_counter(ring_, 2 * kResume - 1, 1000);
  expect_counter_faded_in(render(playback, 1000), 1000, kResume);
  EXPECT_TRUE(playback.playing());
  EXPECT_EQ(playback.underruns(), 1u);
}

TEST_F(PlaybackTest, RefillDuringTheTailWaitsForTheTailToEnd) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, kResume);
  render(playback, kResume + kFade / 2, kResume + kFade / 2);  // dry, half the tail played
  ASSERT_EQ(playback.underruns(), 1u);

  push_counter(ring_, kResume, 2 * kResume);
  const Stereo out = render(playback, kFade / 2, kFade / 2);
  const float last_l = counter_sample(kResume - 1, 0);
  for (std::size_t k = kFade / 2 + 1; k <= kFade; ++k) {
    ASSERT_EQ(out.left[k - kFade / 2 - 1], faded_out(last_l, k)) << "tail frame " << k;
  }
  EXPECT_FALSE(playback.playing());
  // The tail ends at exactly zero; the next block fades in from there.
  Stereo rest = render(playback, 500);
  EXPECT_TRUE(playback.playing());
  expect_counter_faded_in(rest, 500, kResume);
}

// Plays constant input past the fade-in, so later output shows the gain alone.
Stereo play_past_fade_in(AudioRing& ring, Playback& playback, float value) {
  push_constant(ring, value, 8000);
  return render(playback, kFade);
}

// Gain ramp checks on constant input `in`: linear from `from` to `to` over kRamp
// frames (within float rounding), then exactly `to`.
void expect_ramp(const std::vector<float>& out, float in, float from, float to) {
  for (std::size_t j = 0; j < kRamp; ++j) {
    const float linear = from + (to - from) * static_cast<float>(j + 1) / static_cast<float>(kRamp);
    ASSERT_NEAR(out[j], in * linear, 1e-5f) << "ramp frame " << j;
  }
  for (std::size_t j = kRamp; j < out.size(); ++j) ASSERT_EQ(out[j], in * to) << "frame " << j;
}

TEST_F(PlaybackTest, InitialVolumeIsExact) {
  Playback playback(ring_, test_config(kHalfVolumeDb));
  play_past_fade_in(ring_, playback, 0.75f);
  const Stereo out = render(playback, 500);
  for (std::size_t i = 0; i < out.left.size(); ++i) {
    ASSERT_EQ(out.left[i], 0.75f * db_to_gain(kHalfVolumeDb)) << "frame " << i;
    ASSERT_EQ(out.right[i], 0.75f * db_to_gain(kHalfVolumeDb)) << "frame " << i;
  }
}

TEST_F(PlaybackTest, VolumeChangeRampsLinearlyThenIsExact) {
  Playback playback(ring_, test_config());
  play_past_fade_in(ring_, playback, 0.75f);
  playback.set_volume_db(kHalfVolumeDb);
  const Stereo down = render(playback, kRamp + 300);
  expect_ramp(down.left, 0.75f, 1.0f, db_to_gain(kHalfVolumeDb));
  expect_ramp(down.right, 0.75f, 1.0f, db_to_gain(kHalfVolumeDb));

  playback.set_volume_db(0.0f);
  const Stereo up = render(playback, kRamp + 300);
  expect_ramp(up.left, 0.75f, db_to_gain(kHalfVolumeDb), 1.0f);
}

TEST_F(PlaybackTest, MuteRampsToExactlyZeroAndBack) {
  Playback playback(ring_, test_config());
  play_past_fade_in(ring_, playback, -0.75f);
  playback.set_muted(true);
  const Stereo muted = render(playback, kRamp + 300);
  expect_ramp(muted.left, -0.75f, 1.0f, 0.0f);
  EXPECT_TRUE(all_zero(muted.right, kRamp));

  playback.set_muted(false);
  expect_ramp(render(playback, kRamp + 300).left, -0.75f, 0.0f, 1.0f);
}

TEST_F(PlaybackTest, VolumeSetWhileMutedWaitsForUnmute) {
  Playback playback(ring_, test_config());
  play_past_fade_in(ring_, playback, 0.75f);
  playback.set_muted(true);
  render(playback, kRamp);
  playback.set_volume_db(kHalfVolumeDb);
  EXPECT_TRUE(all_zero(render(playback, kRamp + 100).left));
  playback.set_muted(false);
  expect_ramp(render(playback, kRamp + 100).left, 0.75f, 0.0f, db_to_gain(kHalfVolumeDb));
}

TEST_F(PlaybackTest, BlockLargerThanTheInternalChunk) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 10000);
  expect_counter_faded_in(render(playback, 8192, 4096), 8192, 0);
  EXPECT_EQ(playback.underruns(), 0u);
  EXPECT_EQ(playback.frames_played(), 8192u);
}

TEST_F(PlaybackTest, UnderrunInsideALargeBlock) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 1000);
  const Stereo out = render(playback, 4096, 4096);
  expect_counter_faded_in(out, 1000, 0);
  EXPECT_EQ(playback.underruns(), 1u);
  const float last_l = counter_sample(999, 0);
  for (std::size_t k = 1; k <= kFade; ++k) ASSERT_EQ(out.left[999 + k], faded_out(last_l, k)) << "tail frame " << k;
  EXPECT_TRUE(all_zero(out.left, 1000 + kFade));
}

TEST_F(PlaybackTest, FramesPlayedCountsEveryRenderedFrame) {
  Playback playback(ring_, test_config());
  render(playback, 100, 100);
  EXPECT_EQ(playback.frames_played(), 100u);
  push_constant(ring_, 0.5f, 1000);
  render(playback, 700, 128);
  EXPECT_EQ(playback.frames_played(), 800u);
}

}  // namespace
}  // namespace continuo

namespace continuo {
namespace {

// A reset (AudioRing::request_skip): what plays fades out over fade_frames, the stale rest
// is dropped unheard, and the fresh audio starts as from silence, with a fade-in and no
// underrun counted.
TEST_F(PlaybackTest, SkipFadesOutDropsTheStaleAudioAndStartsTheFreshOne) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 2000);
  const Stereo first = render(playback, 256);
  expect_counter_faded_in(first, 256, 0);
  ring_.request_skip(2000);  // everything pushed so far is stale
  push_counter(ring_, 100000, 300);  // the fresh continuation
  const Stereo skip = render(playback, 256);
  for (std::size_t i = 0; i < 256; ++i) {
    const float k = i < kFade ? 1.0f - static_cast<float>(i + 1) / static_cast<float>(kFade) : 0.0f;
    ASSERT_EQ(skip.left[i], counter_sample(256 + i, 0) * k) << "frame " << i;
    ASSERT_EQ(skip.right[i], counter_sample(256 + i, 1) * k) << "frame " << i;
  }
  EXPECT_EQ(ring_.popped(), 2000u) << "the stale audio is gone";
  EXPECT_EQ(ring_.readable_frames(), 300u) << "the fresh audio is kept";
  const Stereo fresh = render(playback, 256);  // 300 >= kResume: plays at once
  expect_counter_faded_in(fresh, 256, 100000);
  EXPECT_EQ(playback.underruns(), 0u);
}

TEST_F(PlaybackTest, SkipWhenLessStaleAudioThanTheFadeDecaysItsLastSample) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 256 + 10);
  render(playback, 256);
  ring_.request_skip(266);
  const Stereo skip = render(playback, 256);
  for (std::size_t i = 0; i < 10; ++i) {
    const float k = 1.0f - static_cast<float>(i + 1) / static_cast<float>(kFade);
    ASSERT_EQ(skip.left[i], counter_sample(256 + i, 0) * k) << "frame " << i;
  }
  const float last = skip.left[9];
  ASSERT_NE(last, 0.0f);
  EXPECT_EQ(skip.left[10], faded_out(last, 1)) << "no step: the last sample decays";
  EXPECT_TRUE(all_zero(skip.left, 10 + kFade));
  EXPECT_EQ(playback.underruns(), 0u);
}

TEST_F(PlaybackTest, SkipWhileWaitingDropsTheStaleAudioSilently) {
  Playback playback(ring_, test_config());
  push_counter(ring_, 0, 100);  // under kResume: not playing yet
  ring_.request_skip(100);
  push_counter(ring_, 5000, kResume);
  const Stereo out = render(playback, 256);
  expect_counter_faded_in(out, 256, 5000);
  EXPECT_EQ(ring_.popped(), 100u + 256u);
}

}  // namespace
}  // namespace continuo
