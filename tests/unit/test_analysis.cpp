// engine/analysis: the features visuals get per frame, on known signals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "engine/analysis.hpp"

namespace continuo {
namespace {

constexpr int kRate = 48000;
constexpr int kFrame = 1920;

// Interleaved stereo, the same in both channels.
std::vector<float> sine(double hz, double amplitude, int frames, int offset = 0) {
  std::vector<float> out(2 * static_cast<std::size_t>(frames));
  for (int i = 0; i < frames; ++i) {
    const auto v = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz * (i + offset) / kRate));
    out[2 * static_cast<std::size_t>(i)] = v;
    out[2 * static_cast<std::size_t>(i) + 1] = v;
  }
  return out;
}

std::size_t argmax(const std::array<float, 12>& chroma) {
  return static_cast<std::size_t>(std::max_element(chroma.begin(), chroma.end()) - chroma.begin());
}

TEST(Analysis, SineCentroidNearItsFrequencyAndChromaAtItsPitchClass) {
  Analyser analyser(kRate);
  AnalysisFrame f;
  for (int k = 0; k < 4; ++k) f = analyser.analyse(sine(440.0, 0.5, kFrame, k * kFrame), kRate);
  EXPECT_NEAR(f.centroid_hz, 440.0, 440.0 * 0.05);
  EXPECT_EQ(argmax(f.chroma), 9u);  // A
  EXPECT_FLOAT_EQ(f.chroma[9], 1.0f);
  // RMS of a 0.5 sine: 0.5/√2 → about -9 dBFS.
  EXPECT_NEAR(f.loudness_db, 20.0 * std::log10(0.5 / std::sqrt(2.0)), 0.2);

  Analyser c4(kRate);
  for (int k = 0; k < 4; ++k) f = c4.analyse(sine(261.63, 0.3, kFrame, k * kFrame), kRate);
  EXPECT_EQ(argmax(f.chroma), 0u);  // C
  EXPECT_NEAR(f.centroid_hz, 261.63, 261.63 * 0.08);
}

TEST(Analysis, SilenceIsVeryQuietWithNoOnsetOrChroma) {
  Analyser analyser(kRate);
  const std::vector<float> silence(2 * kFrame, 0.0f);
  AnalysisFrame f;
  for (int k = 0; k < 3; ++k) f = analyser.analyse(silence, kRate);
  EXPECT_LE(f.loudness_db, -100.0f);
  EXPECT_EQ(f.onset, 0.0f);
  EXPECT_EQ(f.centroid_hz, 0.0f);
  for (float c : f.chroma) EXPECT_EQ(c, 0.0f);
}

TEST(Analysis, AnAttackHasAStrongerOnsetThanASteadyTone) {
  Analyser analyser(kRate);
  const std::vector<float> silence(2 * kFrame, 0.0f);
  analyser.analyse(silence, kRate);
  analyser.analyse(silence, kRate);
  const AnalysisFrame attack = analyser.analyse(sine(330.0, 0.5, kFrame), kRate);
  AnalysisFrame steady;
  for (int k = 1; k < 6; ++k) steady = analyser.analyse(sine(330.0, 0.5, kFrame, k * kFrame), kRate);
  EXPECT_GT(attack.onset, 0.5f);
  EXPECT_LT(steady.onset, 0.1f);
  EXPECT_GT(attack.onset, 5.0f * steady.onset);
  EXPECT_GE(attack.onset, 0.0f);
  EXPECT_LE(attack.onset, 1.0f);
}

TEST(Analysis, ChordChromaPeaksAtItsPitchClassesAndFollowsARateChange) {
  Analyser analyser(44100);
  std::vector<float> chord(2 * kFrame, 0.0f);
  AnalysisFrame f;
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < kFrame; ++i) {
      double v = 0.0;
      for (int pitch : {60, 64, 67}) {
        const double hz = 440.0 * std::pow(2.0, (pitch - 69) / 12.0);
        v += 0.1 * std::sin(2.0 * std::numbers::pi * hz * (k * kFrame + i) / kRate);
      }
      chord[2 * static_cast<std::size_t>(i)] = chord[2 * static_cast<std::size_t>(i) + 1] = static_cast<float>(v);
    }
    f = analyser.analyse(chord, kRate);  // the table follows the rate given
  }
  std::array<std::size_t, 12> order{};
  for (std::size_t i = 0; i < 12; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return f.chroma[a] > f.chroma[b]; });
  std::vector<std::size_t> top(order.begin(), order.begin() + 3);
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, (std::vector<std::size_t>{0, 4, 7}));
}

TEST(AnalysisQueue, HandsOverOnlyFramesWhoseFirstSampleWasRead) {
  AnalysisQueue queue;
  AnalysisFrame a;
  a.onset = 1.0f;
  AnalysisFrame b;
  b.onset = 2.0f;
  queue.push(a, 0);
  queue.push(b, 1920);
  std::array<AnalysisFrame, 4> out;
  EXPECT_EQ(queue.take_heard(0, out), 0u);
  ASSERT_EQ(queue.take_heard(1, out), 1u);
  EXPECT_EQ(out[0].onset, 1.0f);
  EXPECT_EQ(queue.take_heard(1920, out), 0u);
  ASSERT_EQ(queue.take_heard(5000, out), 1u);
  EXPECT_EQ(out[0].onset, 2.0f);
  EXPECT_EQ(queue.size(), 0u);
}

TEST(AnalysisQueue, KeepsTheNewestWhenNobodyTakesThem) {
  AnalysisQueue queue;
  for (std::uint64_t i = 0; i < AnalysisQueue::kCapacity + 10; ++i) {
    AnalysisFrame f;
    f.centroid_hz = static_cast<float>(i);
    queue.push(f, i);
  }
  EXPECT_EQ(queue.size(), AnalysisQueue::kCapacity);
  std::array<AnalysisFrame, 1> out;
  ASSERT_EQ(queue.take_heard(1u << 20, out), 1u);
  EXPECT_EQ(out[0].centroid_hz, 10.0f);
}

}  // namespace
}  // namespace continuo

namespace continuo {
namespace {

// Nobody subscribed: frames go by without an FFT, and the first frame analysed after the
// pause is exactly what it would have been had every frame been analysed (its onset
// compares with the spectrum the skipped frame left, not a stale one).
TEST(Analysis, SkippedFramesCostNoFftAndLeaveTheNextResultUnchanged) {
  Analyser always(kRate);
  Analyser paused(kRate);
  std::vector<std::vector<float>> frames;
  for (int k = 0; k < 6; ++k) frames.push_back(sine(k < 3 ? 220.0 : 660.0, 0.1 + 0.1 * k, kFrame, k * kFrame));
  std::vector<AnalysisFrame> expected;
  for (const auto& f : frames) expected.push_back(always.analyse(f, kRate));
  paused.analyse(frames[0], kRate);
  const std::uint64_t spectra = paused.spectra();
  paused.skip(frames[1], kRate);
  paused.skip(frames[2], kRate);
  paused.skip(frames[3], kRate);
  EXPECT_EQ(paused.spectra(), spectra) << "skipping computes no spectrum";
  const AnalysisFrame resumed = paused.analyse(frames[4], kRate);
  EXPECT_EQ(paused.spectra(), spectra + 2) << "the skipped frame's spectrum once, then this frame's";
  EXPECT_EQ(resumed.loudness_db, expected[4].loudness_db);
  EXPECT_EQ(resumed.onset, expected[4].onset);
  EXPECT_EQ(resumed.centroid_hz, expected[4].centroid_hz);
  EXPECT_EQ(resumed.chroma, expected[4].chroma);
  const AnalysisFrame next = paused.analyse(frames[5], kRate);
  EXPECT_EQ(next.onset, expected[5].onset);
}

TEST(AnalysisQueue, DropAfterForgetsFramesAResetDropped) {
  AnalysisQueue queue;
  for (std::uint64_t start : {0u, 1920u, 3840u, 5760u}) queue.push(AnalysisFrame{}, start);
  queue.drop_after(2000);
  EXPECT_EQ(queue.size(), 2u);
  queue.push(AnalysisFrame{}, 5760);
  std::array<AnalysisFrame, 8> out;
  EXPECT_EQ(queue.take_heard(100000, out), 3u);
}

}  // namespace
}  // namespace continuo
