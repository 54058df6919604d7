#include "engine/audio_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace continuo {
namespace {

// Interleaved frames whose samples count up from first, so order is checkable.
std::vector<float> counting_frames(std::size_t frames, float first = 0.0f) {
  std::vector<float> out(frames * AudioRing::kChannels);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = first + static_cast<float>(i);
  return out;
}

TEST(AudioRing, PushThenPopReturnsTheSameFrames) {
  AudioRing ring(16);
  const std::vector<float> in = counting_frames(5);
  EXPECT_EQ(ring.push(in), 5u);
  EXPECT_EQ(ring.readable_frames(), 5u);
  std::vector<float> out(in.size());
  EXPECT_EQ(ring.pop(out), 5u);
  EXPECT_EQ(out, in);
  EXPECT_EQ(ring.readable_frames(), 0u);
}

TEST(AudioRing, CapacityIsRespected) {
  AudioRing ring(8);
  EXPECT_EQ(ring.capacity_frames(), 8u);
  EXPECT_EQ(ring.writable_frames(), 8u);
  EXPECT_EQ(ring.push(counting_frames(8)), 8u);
  EXPECT_EQ(ring.writable_frames(), 0u);
  EXPECT_EQ(ring.push(counting_frames(1)), 0u);
  EXPECT_EQ(ring.readable_frames(), 8u);
}

TEST(AudioRing, PartialPushReturnsHowManyFit) {
  AudioRing ring(8);
  ASSERT_EQ(ring.push(counting_frames(5)), 5u);
  EXPECT_EQ(ring.push(counting_frames(6, 100.0f)), 3u);
  std::vector<float> out(8 * AudioRing::kChannels);
  ASSERT_EQ(ring.pop(out), 8u);
  const std::vector<float> first = counting_frames(5);
  const std::vector<float> second = counting_frames(3, 100.0f);
  std::vector<float> expected(first);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(out, expected);
}

TEST(AudioRing, PushIgnoresAHalfFrame) {
  AudioRing ring(8);
  const std::vector<float> three_samples{1.0f, 2.0f, 3.0f};
  EXPECT_EQ(ring.push(three_samples), 1u);
  EXPECT_EQ(ring.readable_frames(), 1u);
}

TEST(AudioRing, PopOfEmptyReturnsZero) {
  AudioRing ring(8);
  std::vector<float> out(4 * AudioRing::kChannels, -1.0f);
  EXPECT_EQ(ring.pop(out), 0u);
  EXPECT_EQ(out, std::vector<float>(out.size(), -1.0f));
}

TEST(AudioRing, PopTakesOnlyWhatIsThere) {
  AudioRing ring(8);
  ASSERT_EQ(ring.push(counting_frames(3)), 3u);
  std::vector<float> out(6 * AudioRing::kChannels);
  EXPECT_EQ(ring.pop(out), 3u);
}

TEST(AudioRing, KeepsOrderAcrossWraparound) {
  AudioRing ring(7);
  float next_in = 0.0f;
  float next_out = 0.0f;
  // Chunk sizes that do not divide the capacity walk the indices around many times.
  for (int round = 0; round < 50; ++round) {
    const std::size_t frames = 1 + static_cast<std::size_t>(round % 5);
    ASSERT_EQ(ring.push(counting_frames(frames, next_in)), frames);
    next_in += static_cast<float>(frames * AudioRing::kChannels);
    std::vector<float> out(frames * AudioRing::kChannels);
    ASSERT_EQ(ring.pop(out), frames);
    for (float v : out) ASSERT_EQ(v, next_out++);
  }
}

// One producer and one consumer, as in the engine: every sample arrives, in order.
TEST(AudioRing, TwoThreadsPassEverySampleInOrder) {
  constexpr std::uint32_t kTotalSamples = 1u << 20;  // all exactly representable in float
  AudioRing ring(256);

  std::thread producer([&ring] {
    std::mt19937 random(1);
    std::uniform_int_distribution<std::size_t> chunk(1, 300);
    std::uint32_t next = 0;
    while (next < kTotalSamples) {
      const std::size_t frames = std::min<std::size_t>(chunk(random), (kTotalSamples - next) / AudioRing::kChannels);
      const std::vector<float> data = counting_frames(frames, static_cast<float>(next));
      const std::size_t pushed = ring.push(data);
      next += static_cast<std::uint32_t>(pushed * AudioRing::kChannels);
      if (pushed == 0) std::this_thread::yield();
    }
  });

  std::mt19937 random(2);
  std::uniform_int_distribution<std::size_t> chunk(1, 300);
  std::vector<float> out(300 * AudioRing::kChannels);
  std::uint32_t received = 0;
  std::uint32_t wrong = 0;
  // Keeps draining after a mismatch, so the producer can always finish.
  while (received < kTotalSamples) {
    const std::size_t popped = ring.pop(std::span(out).first(chunk(random) * AudioRing::kChannels));
    for (std::size_t i = 0; i < popped * AudioRing::kChannels; ++i, ++received) {
      if (out[i] != static_cast<float>(received)) ++wrong;
    }
    if (popped == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(received, kTotalSamples);
  EXPECT_EQ(ring.readable_frames(), 0u);
}

}  // namespace
}  // namespace continuo
