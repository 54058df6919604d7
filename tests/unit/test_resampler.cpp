#include "engine/resampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace continuo {
namespace {

constexpr int kChannels = 2;
constexpr std::size_t kBlockFrames = 1920;  // one model frame
constexpr std::size_t kInputFrames = 16 * kBlockFrames;
constexpr std::size_t kSettleFrames = 4096;  // well past any sinc converter's delay
constexpr double kMaxDelayFrames = 512.0;    // best quality 48 kHz -> 96 kHz measured 288
constexpr double kAmplitude = 0.5;

struct Stereo {
  std::vector<double> left;
  std::vector<double> right;
};

std::vector<float> sine_left_silent_right(double hz, int rate, std::size_t frames) {
  std::vector<float> out(frames * kChannels, 0.0f);
  for (std::size_t i = 0; i < frames; ++i) {
    out[kChannels * i] = static_cast<float>(kAmplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  }
  return out;
}

// Feeds the signal through in model-frame blocks, as FrameSource does.
Stereo stream(Resampler& resampler, const std::vector<float>& interleaved) {
  std::vector<float> out;
  for (std::size_t at = 0; at < interleaved.size(); at += kBlockFrames * kChannels) {
    const std::size_t n = std::min(kBlockFrames * kChannels, interleaved.size() - at);
    resampler.process(std::span(interleaved).subspan(at, n), out);
  }
  Stereo split;
  for (std::size_t i = 0; i + 1 < out.size(); i += kChannels) {
    split.left.push_back(out[i]);
    split.right.push_back(out[i + 1]);
  }
  return split;
}

// Amplitude of the hz component, by a DFT at that one bin over a window holding a whole
// number of periods, where a pure sine has no leakage and the result is exact.
double tone_amplitude(std::span<const double> signal, double hz, int rate) {
  const auto period_samples = static_cast<std::size_t>(rate / std::gcd(static_cast<int>(hz), rate));
  const std::size_t n = signal.size() / period_samples * period_samples;
  double re = 0.0;
  double im = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double phase = 2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate;
    re += signal[i] * std::cos(phase);
    im += signal[i] * std::sin(phase);
  }
  return 2.0 * std::hypot(re, im) / static_cast<double>(n);
}

double rms(std::span<const double> signal) {
  const double sum = std::inner_product(signal.begin(), signal.end(), signal.begin(), 0.0);
  return std::sqrt(sum / static_cast<double>(signal.size()));
}

double db(double ratio) { return 20.0 * std::log10(ratio); }

std::span<const double> settled(const std::vector<double>& signal) {
  return std::span(signal).subspan(kSettleFrames);
}

struct ToneCase {
  int from;
  int to;
  ResamplerQuality quality;
  double hz;
};

class ResamplerTone : public testing::TestWithParam<ToneCase> {};

TEST_P(ResamplerTone, KeepsFrequencyAndAmplitude) {
  const ToneCase c = GetParam();
  Resampler resampler(c.from, c.to, c.quality, kChannels);
  const Stereo out = stream(resampler, sine_left_silent_right(c.hz, c.from, kInputFrames));
  const std::span<const double> left = settled(out.left);

  const double at_bin_db = db(tone_amplitude(left, c.hz, c.to) / kAmplitude);
  EXPECT_NEAR(at_bin_db, 0.0, 0.1);
  // All the energy sits at that one frequency: nothing moved elsewhere.
  EXPECT_NEAR(db(rms(left) * std::numbers::sqrt2 / kAmplitude), 0.0, 0.1);
}

TEST_P(ResamplerTone, OutputLengthFollowsRatio) {
  const ToneCase c = GetParam();
  Resampler resampler(c.from, c.to, c.quality, kChannels);
  const Stereo out = stream(resampler, sine_left_silent_right(c.hz, c.from, kInputFrames));
  const double expected = static_cast<double>(kInputFrames) * c.to / c.from;
  const auto produced = static_cast<double>(out.left.size());
  EXPECT_LE(produced, expected + 1.0);
  EXPECT_GE(produced, expected - kMaxDelayFrames);
}

TEST_P(ResamplerTone, ChannelsAreIndependent) {
  const ToneCase c = GetParam();
  Resampler resampler(c.from, c.to, c.quality, kChannels);
  const Stereo out = stream(resampler, sine_left_silent_right(c.hz, c.from, kInputFrames));
  double right_peak = 0.0;
  for (double v : out.right) right_peak = std::max(right_peak, std::abs(v));
  EXPECT_GT(rms(settled(out.left)), 0.3);
  EXPECT_LT(right_peak, 1e-6);
}

std::vector<ToneCase> tone_cases() {
  std::vector<ToneCase> cases;
  for (const auto& [from, to] : {std::pair{48000, 44100}, std::pair{44100, 48000}, std::pair{48000, 96000}}) {
    for (ResamplerQuality q : {ResamplerQuality::best, ResamplerQuality::medium, ResamplerQuality::fastest}) {
      for (double hz : {1000.0, 10000.0}) cases.push_back({from, to, q, hz});
    }
  }
  return cases;
}

std::string tone_case_name(const testing::TestParamInfo<ToneCase>& info) {
  static constexpr const char* kQuality[] = {"best", "medium", "fastest"};
  const ToneCase& c = info.param;
  return std::to_string(c.from) + "to" + std::to_string(c.to) + "_" + kQuality[static_cast<int>(c.quality)] + "_" +
         std::to_string(static_cast<int>(c.hz)) + "Hz";
}

INSTANTIATE_TEST_SUITE_P(Sines, ResamplerTone, testing::ValuesIn(tone_cases()), tone_case_name);

// Attenuation of a 23 kHz tone, above 44.1 kHz's Nyquist, in dB relative to the input.
double alias_level_db(ResamplerQuality quality) {
  Resampler resampler(48000, 44100, quality, kChannels);
  const Stereo out = stream(resampler, sine_left_silent_right(23000.0, 48000, kInputFrames));
  return db(rms(settled(out.left)) * std::numbers::sqrt2 / kAmplitude);
}

TEST(Resampler, RejectsAliasesAtBestQuality) {
  const double level = alias_level_db(ResamplerQuality::best);
  RecordProperty("alias_db", std::to_string(level));
  EXPECT_LT(level, -120.0);  // measured -150 dB with libsamplerate 0.2
}

TEST(Resampler, RejectsAliasesAtMediumQuality) {
  const double level = alias_level_db(ResamplerQuality::medium);
  RecordProperty("alias_db", std::to_string(level));
  EXPECT_LT(level, -100.0);  // measured -118 dB with libsamplerate 0.2
}

TEST(Resampler, RejectsZeroRates) {
  EXPECT_THROW(Resampler(0, 48000, ResamplerQuality::best, kChannels), std::runtime_error);
  EXPECT_THROW(Resampler(48000, 0, ResamplerQuality::best, kChannels), std::runtime_error);
}

TEST(Resampler, ErrorNamesTheRates) {
  try {
    Resampler resampler(48000, 0, ResamplerQuality::medium, kChannels);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("48000"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace continuo
