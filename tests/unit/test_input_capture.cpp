// The JACK input capture ring: the last frames exactly, across wraps and while the audio
// thread writes; and the level checks /continuo/prefill/live refuses silence and clipping by.
#include "engine/input_capture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

namespace continuo {
namespace {

// Frame n of the test signal: left n, right -n, exact in float below 2^24.
float left_of(std::uint64_t n) { return static_cast<float>(n % (1u << 24)); }
float right_of(std::uint64_t n) { return -left_of(n); }

// Writes frames [first, first + count) of the test signal as one period.
void write_period(InputCapture& capture, std::uint64_t first, std::size_t count) {
  std::vector<float> left(count), right(count);
  for (std::size_t i = 0; i < count; ++i) {
    left[i] = left_of(first + i);
    right[i] = right_of(first + i);
  }
  capture.write(left.data(), right.data(), count);
}

// Whether copied (interleaved) is frames [first, first + copied.size() / 2), bit for bit.
::testing::AssertionResult is_signal_from(const std::vector<float>& copied, std::uint64_t first) {
  for (std::size_t i = 0; i < copied.size() / 2; ++i) {
    if (copied[2 * i] != left_of(first + i) || copied[2 * i + 1] != right_of(first + i)) {
      return ::testing::AssertionFailure() << "frame " << i << " is (" << copied[2 * i] << ", " << copied[2 * i + 1]
                                           << "), expected frame " << first + i;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(InputCapture, CopiesTheLastFramesExactlyAcrossWraps) {
  InputCapture capture(100, 10);  // 110 slots: periods of 37 wrap at every other offset
  std::vector<float> copied;
  std::uint64_t written = 0;
  for (int period = 0; period < 30; ++period) {
    write_period(capture, written, 37);
    written += 37;
    ASSERT_EQ(capture.frames_written(), written);
    for (const std::size_t frames : {std::size_t{1}, std::size_t{37}, std::size_t{100}}) {
      if (frames > written) continue;
      ASSERT_TRUE(capture.copy_last(frames, copied)) << frames << " of " << written;
      ASSERT_EQ(copied.size(), 2 * frames);
      ASSERT_TRUE(is_signal_from(copied, written - frames)) << frames << " of " << written;
    }
  }
}

TEST(InputCapture, RefusesMoreThanWrittenOrThanItKeeps) {
  InputCapture capture(100, 10);
  std::vector<float> copied;
  EXPECT_FALSE(capture.copy_last(1, copied));
  write_period(capture, 0, 50);
  EXPECT_FALSE(capture.copy_last(51, copied));
  EXPECT_TRUE(capture.copy_last(50, copied));
  write_period(capture, 50, 100);
  EXPECT_FALSE(capture.copy_last(101, copied));  // only max_frames are promised
  EXPECT_TRUE(capture.copy_last(0, copied));
  EXPECT_TRUE(copied.empty());
}

TEST(InputCapture, APeriodLongerThanTheRingKeepsItsEnd) {
  InputCapture capture(8, 2);
  write_period(capture, 0, 25);
  EXPECT_EQ(capture.frames_written(), 25u);
  std::vector<float> copied;
  ASSERT_TRUE(capture.copy_last(8, copied));
  EXPECT_TRUE(is_signal_from(copied, 17));
}

// A writer as fast as it can go against readers copying all the time: every copy that
// succeeds is a run of consecutive frames, never a mix of two laps.
TEST(InputCapture, ACopyDuringWritesIsNeverTorn) {
  constexpr std::size_t kAsked = 2000;
  InputCapture capture(kAsked, 500);
  write_period(capture, 0, kAsked);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::uint64_t written = kAsked;
    while (!stop.load(std::memory_order_relaxed)) {
      write_period(capture, written, 64);
      written += 64;
    }
  });
  int intact = 0;
  int lapped = 0;
  std::vector<float> copied;
  for (int copy = 0; copy < 3000; ++copy) {
    if (!capture.copy_last(kAsked, copied)) {
      ++lapped;
      continue;
    }
    const auto first = static_cast<std::uint64_t>(copied[0]);
    ASSERT_TRUE(is_signal_from(copied, first)) << "copy " << copy;
    ++intact;
  }
  stop.store(true);
  writer.join();
  std::printf("%d intact copies, %d refused as lapped\n", intact, lapped);
  EXPECT_GT(intact, 0);
}

std::vector<float> sine(double amplitude, std::size_t frames) {
  std::vector<float> audio(2 * frames);
  for (std::size_t i = 0; i < frames; ++i) {
    const auto x = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * 440.0 * i / 48000.0));
    audio[2 * i] = x;
    audio[2 * i + 1] = x;
  }
  return audio;
}

TEST(InputLevel, SilenceAndAQuietNoiseFloorAreSilent) {
  EXPECT_EQ(input_level_problem(std::vector<float>(960, 0.0f)),
            "the input is silent: RMS -inf dBFS, below -60.0 dBFS");
  // A sine of amplitude 10^(-70/20)·√2 has an RMS of -70 dBFS.
  EXPECT_EQ(input_level_problem(sine(std::pow(10.0, -70.0 / 20.0) * std::sqrt(2.0), 4800)),
            "the input is silent: RMS -70.0 dBFS, below -60.0 dBFS");
  EXPECT_EQ(input_level_problem({}), "the input is silent: no samples");
}

TEST(InputLevel, APlayedSignalPasses) {
  EXPECT_EQ(input_level_problem(sine(0.5, 4800)), "");
  EXPECT_EQ(input_level_problem(sine(std::pow(10.0, -50.0 / 20.0), 4800)), "");  // quiet but there
  // A peak that touches full scale now and then is not clipping.
  std::vector<float> peaks = sine(0.5, 4800);
  for (std::size_t i = 0; i < peaks.size(); i += 200) peaks[i] = 1.0f;  // 0.5%
  EXPECT_EQ(input_level_problem(peaks), "");
}

TEST(InputLevel, AFlattenedSignalIsClipped) {
  std::vector<float> square = sine(4.0, 4800);  // a sine driven far into the rails
  for (float& x : square) x = std::clamp(x, -1.0f, 1.0f);
  const std::string why = input_level_problem(square);
  EXPECT_EQ(why.rfind("the input is clipped: ", 0), 0u) << why;
  EXPECT_NE(why.find("% of samples at full scale, above 1.0%"), std::string::npos) << why;
  std::vector<float> hot = sine(0.5, 1000);
  for (std::size_t i = 0; i < 50; ++i) hot[i] = -1.0f;  // 2.5% of 2000 samples
  EXPECT_EQ(input_level_problem(hot), "the input is clipped: 2.5% of samples at full scale, above 1.0%");
}

TEST(InputLevel, ANonFiniteSampleIsRefused) {
  std::vector<float> audio = sine(0.5, 100);
  audio[7] = std::nanf("");
  EXPECT_EQ(input_level_problem(audio), "the input holds samples that are not finite numbers");
}

}  // namespace
}  // namespace continuo
