// /continuo/prefill/live's worker: what it hands the encoder and the generator, and every
// refusal, with a fake encoder and a capture ring filled here (no JACK).
#include "engine/live_prefill.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace continuo {
namespace {

constexpr int kRate = 1000;  // the capture's (JACK's) rate in these tests

// Keeps what it was given; answers one token per 100 samples; throws when told to.
class FakeEncoder final : public AudioEncoder {
 public:
  explicit FakeEncoder(int rate) : rate_(rate) {}
  int sample_rate() const override { return rate_; }
  std::vector<int> encode(std::span<const float> audio) override {
    if (hold_) hold_->get_future().wait();
    if (!refuse_.empty()) throw std::invalid_argument(refuse_);
    audio_.assign(audio.begin(), audio.end());
    return std::vector<int>(audio.size() / 200, 7);
  }
  std::vector<float> audio_;
  std::string refuse_;
  std::shared_ptr<std::promise<void>> hold_;  // set: encode waits until it is fulfilled

 private:
  int rate_;
};

// A played instrument: a sine, by default of amplitude 0.5; louder ones flatten at ±1 as at
// an interface's converter.
void play(InputCapture& capture, std::size_t frames, double amplitude = 0.5) {
  std::vector<float> left(frames), right(frames);
  for (std::size_t i = 0; i < frames; ++i) {
    const double x = amplitude * std::sin(2.0 * std::numbers::pi * 50.0 * i / kRate);
    left[i] = static_cast<float>(std::clamp(x, -1.0, 1.0));
    right[i] = -left[i];
  }
  capture.write(left.data(), right.data(), frames);
}

class LivePrefillTest : public testing::Test {
 protected:
  InputCapture capture_{5 * kRate, kRate};  // input.capture_seconds = 5
  std::shared_ptr<FakeEncoder> encoder_ = std::make_shared<FakeEncoder>(kRate);
  const AudioEncoder* applied_from_ = nullptr;
  std::vector<int> applied_;
  std::string apply_answer_;
  LivePrefill prefill_{&capture_, [] { return kRate; },
                       [this](const AudioEncoder& from, std::span<const int> tokens) {
                         applied_from_ = &from;
                         applied_.assign(tokens.begin(), tokens.end());
                         return apply_answer_;
                       },
                       encoder_, ResamplerQuality::medium};

  // start's refusal, or, when it started, done's answer (waited for).
  std::string run(double seconds) {
    std::promise<std::string> answer;
    const std::string why = prefill_.start(seconds, [&](const std::string& done) { answer.set_value(done); });
    return why.empty() ? answer.get_future().get() : "refused: " + why;
  }
};

TEST_F(LivePrefillTest, TheLastSecondsAreEncodedAndTheirTokensApplied) {
  play(capture_, 3 * kRate);
  std::vector<float> last_two;
  ASSERT_TRUE(capture_.copy_last(2 * kRate, last_two));
  EXPECT_EQ(run(2.0), "");
  EXPECT_EQ(encoder_->audio_, last_two);  // same rate: the captured samples, bit for bit
  EXPECT_EQ(applied_from_, encoder_.get());
  EXPECT_EQ(applied_, std::vector<int>(20, 7));
}

TEST_F(LivePrefillTest, AnotherRateIsResampledToTheEncoders) {
  auto half_rate = std::make_shared<FakeEncoder>(kRate / 2);
  prefill_.use_encoder(half_rate);
  play(capture_, 3 * kRate);
  EXPECT_EQ(run(2.0), "");
  // Two seconds at 500 Hz, less the converter's delay (it streams; nothing is flushed).
  EXPECT_LE(half_rate->audio_.size(), 2u * kRate);
  EXPECT_GE(half_rate->audio_.size(), 2u * (kRate - 100));
  EXPECT_EQ(applied_from_, half_rate.get());
}

TEST_F(LivePrefillTest, SilenceAndClippingAreRefusedWithTheReason) {
  play(capture_, 3 * kRate, 0.0);
  EXPECT_EQ(run(2.0), "the input is silent: RMS -inf dBFS, below -60.0 dBFS");
  play(capture_, 3 * kRate, 8.0);
  const std::string clipped = run(2.0);
  EXPECT_EQ(clipped.rfind("the input is clipped: ", 0), 0u) << clipped;
  EXPECT_EQ(applied_from_, nullptr);  // neither reached the generator
  EXPECT_TRUE(encoder_->audio_.empty());
}

TEST_F(LivePrefillTest, SecondsOutsideTheCaptureAreRefused) {
  play(capture_, 6 * kRate);
  EXPECT_EQ(run(0.0), "refused: seconds must be greater than 0 and at most 5 (input.capture_seconds), got 0");
  EXPECT_EQ(run(-1.0), "refused: seconds must be greater than 0 and at most 5 (input.capture_seconds), got -1");
  EXPECT_EQ(run(5.5), "refused: seconds must be greater than 0 and at most 5 (input.capture_seconds), got 5.5");
  EXPECT_EQ(run(std::nan("")), "refused: seconds must be greater than 0 and at most 5 (input.capture_seconds), got nan");
  EXPECT_EQ(run(5.0), "");
}

TEST_F(LivePrefillTest, LessCapturedThanAskedIsRefused) {
  play(capture_, kRate / 2);
  EXPECT_EQ(run(1.0), "refused: not enough input captured yet: 0.5 s of the 1 s asked for");
}

TEST_F(LivePrefillTest, AModelWithoutAnEncoderIsRefused) {
  prefill_.use_encoder(nullptr);
  play(capture_, 3 * kRate);
  EXPECT_EQ(run(1.0),
            "refused: this model cannot take audio as context: it has no audio encoder (a SpectroStream encoder)");
}

TEST_F(LivePrefillTest, TheEncodersAndTheGeneratorsRefusalsAreTheAnswer) {
  play(capture_, 3 * kRate);
  encoder_->refuse_ = "too short to encode";
  EXPECT_EQ(run(1.0), "too short to encode");
  encoder_->refuse_.clear();
  apply_answer_ = "the model was switched while the audio was being encoded";
  EXPECT_EQ(run(1.0), apply_answer_);
}

TEST_F(LivePrefillTest, OnePrefillAtATime) {
  play(capture_, 3 * kRate);
  encoder_->hold_ = std::make_shared<std::promise<void>>();
  std::promise<std::string> first;
  ASSERT_EQ(prefill_.start(1.0, [&](const std::string& why) { first.set_value(why); }), "");
  EXPECT_EQ(run(1.0), "refused: busy: another prefill is under way");
  encoder_->hold_->set_value();
  EXPECT_EQ(first.get_future().get(), "");
  encoder_->hold_.reset();
  EXPECT_EQ(run(1.0), "");  // and the next may start
}

TEST(LivePrefill, WithoutCaptureItIsRefused) {
  LivePrefill prefill(nullptr, [] { return kRate; }, [](const AudioEncoder&, std::span<const int>) { return std::string(); },
                      std::make_shared<FakeEncoder>(kRate), ResamplerQuality::medium);
  EXPECT_EQ(prefill.start(1.0, [](const std::string&) {}),
            "input capture is off: set input.capture_seconds above 0 in the config");
}

TEST(LivePrefill, WithoutAKnownRateItIsRefused) {
  InputCapture capture(kRate, kRate);
  LivePrefill prefill(&capture, [] { return 0; }, [](const AudioEncoder&, std::span<const int>) { return std::string(); },
                      std::make_shared<FakeEncoder>(kRate), ResamplerQuality::medium);
  EXPECT_EQ(prefill.start(1.0, [](const std::string&) {}), "no JACK sample rate yet: nothing captured");
}

}  // namespace
}  // namespace continuo
