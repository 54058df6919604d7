// /continuo/prompt/N/audio's worker (engine/audio_prompts): what reaches the style encoder
// and the prompt slots from the capture ring and from files, and every refusal, with a fake
// encoder (no JACK, no model).
#include "engine/audio_prompts.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/audio_file.hpp"
#include "engine/controls.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;

constexpr int kRate = 8000;  // the capture's (JACK's) rate in these tests

// An encoder whose audio embedding is [samples it was given, their mean], and whose tokens
// show the blend: token 0 is the weighted mean of the audio prompts' sample counts / 1000
// and of the text prompts' lengths.
class FakeStyle final : public StyleEncoder {
 public:
  explicit FakeStyle(bool audio = true) : audio_(audio) {}
  std::array<int, kStyleTokens> tokens(std::span<const WeightedPrompt> prompts) const override {
    double weighted = 0.0, total = 0.0;
    for (const WeightedPrompt& p : prompts) {
      weighted += p.weight * (p.audio ? (*p.audio)[0] / 1000.0 : static_cast<double>(p.text.size()));
      total += p.weight;
    }
    std::array<int, kStyleTokens> tokens{};
    tokens[0] = static_cast<int>(std::lround(weighted / total));
    return tokens;
  }
  std::string audio_missing() const override { return audio_ ? "" : StyleEncoder::audio_missing(); }
  AudioEmbedding embed_audio(std::span<const float> samples) const override {
    if (!audio_) throw std::invalid_argument(audio_missing());
    double sum = 0.0;
    for (const float x : samples) sum += x;
    return std::make_shared<const std::vector<float>>(
        std::vector<float>{static_cast<float>(samples.size()), static_cast<float>(sum / static_cast<double>(samples.size()))});
  }

 private:
  bool audio_;
};

std::vector<float> sine(double amplitude, std::size_t frames, int channels) {
  std::vector<float> out(frames * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = amplitude * std::sin(2.0 * std::numbers::pi * 220.0 * static_cast<double>(i / channels) / kRate);
    out[i] = static_cast<float>(std::clamp(x, -1.0, 1.0));
  }
  return out;
}

void write_wav(const fs::path& path, const std::vector<float>& interleaved, int channels, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  const SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &info));
  ASSERT_TRUE(file) << sf_strerror(nullptr);
  sf_writef_float(file.get(), interleaved.data(), static_cast<sf_count_t>(interleaved.size()) / channels);
}

class AudioPromptsTest : public testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_ / "prompts" / "clips"); }
  void TearDown() override {
    prompts_.close();
    fs::remove_all(dir_);
  }

  // Plays `frames` of a sine into the capture (stereo).
  void play(std::size_t frames, double amplitude = 0.5) {
    const std::vector<float> left = sine(amplitude, frames, 1);
    capture_.write(left.data(), left.data(), frames);
  }

  // The answer of a started prompt: "" or why it failed.
  std::string answer(const std::function<std::string(AudioPrompts::Done)>& start) {
    auto done = std::make_shared<std::promise<std::string>>();
    const std::string refused = start([done](const std::string& why) { done->set_value(why); });
    if (!refused.empty()) return "refused at once: " + refused;
    return done->get_future().get();
  }
  std::string live(int slot, double seconds) {
    return answer([&](AudioPrompts::Done done) { return prompts_.start_live(slot, seconds, std::move(done)); });
  }
  std::string file(int slot, const std::string& path) {
    return answer([&](AudioPrompts::Done done) { return prompts_.start_file(slot, path, std::move(done)); });
  }

  const fs::path dir_ = fs::temp_directory_path() / ("continuo_audio_prompts_" + std::to_string(::getpid()) + "_" +
                                                    testing::UnitTest::GetInstance()->current_test_info()->name());
  ControlState state_{ControlSnapshot{}};
  AudioRing ring_{4096};
  Playback playback_{ring_, PlaybackConfig{}};
  std::shared_ptr<FakeStyle> style_ = std::make_shared<FakeStyle>();
  Controls controls_{state_, playback_, [] { return StatusSnapshot{}; }, 0.0f, {}, {}, style_};
  InputCapture capture_{5 * kRate, kRate};
  AudioPrompts prompts_{controls_, &capture_, [] { return kRate; }, dir_ / "prompts", ResamplerQuality::fastest};
};

TEST_F(AudioPromptsTest, TheLastSecondsOfTheInputBecomeTheSlotResampledTo16kHz) {
  play(3 * kRate);
  ASSERT_EQ(controls_.set_prompt_text(1, "abcd"), "");
  ASSERT_EQ(live(2, 2.0), "");
  const std::vector<WeightedPrompt> in_play = controls_.prompts();
  ASSERT_EQ(in_play.size(), 2u);
  EXPECT_EQ(in_play[1].text, "[audio live 2 s]");
  ASSERT_NE(in_play[1].audio, nullptr);
  // 2 s at 16 kHz, less the resampler's delay (a stream, not flushed).
  const float samples = (*in_play[1].audio)[0];
  EXPECT_GT(samples, 31000.0f);
  EXPECT_LE(samples, 32000.0f);
  // Token 0: the mean of 4 (the text's length) and ~32 (the audio's samples / 1000).
  EXPECT_EQ(controls_.snapshot().style_tokens[0], static_cast<int>(std::lround((4.0 + samples / 1000.0) / 2.0)));
  // Text replaces audio in a slot.
  ASSERT_EQ(controls_.set_prompt_text(2, "ab"), "");
  EXPECT_EQ(controls_.prompts()[1].audio, nullptr);
}

TEST_F(AudioPromptsTest, SilentOrClippedInputIsRefusedWithTheReason) {
  capture_.write(std::vector<float>(3 * kRate, 0.0f).data(), std::vector<float>(3 * kRate, 0.0f).data(), 3 * kRate);
  EXPECT_EQ(live(1, 2.0).substr(0, 23), "the input is silent: RM");
  play(3 * kRate, 4.0);
  EXPECT_EQ(live(1, 2.0).substr(0, 20), "the input is clipped");
  EXPECT_TRUE(controls_.prompts().empty()) << "a refused prompt leaves the slots as they were";
}

TEST_F(AudioPromptsTest, WhatIsRefusedAtOnce) {
  play(kRate);
  EXPECT_EQ(live(1, 2.0), "refused at once: not enough input captured yet: 1 s of the 2 s asked for");
  EXPECT_EQ(live(1, 6.0), "refused at once: seconds must be greater than 0 and at most 5 (input.capture_seconds), got 6");
  EXPECT_EQ(live(9, 1.0), "refused at once: prompt slot must be 1..8, got 9");
  EXPECT_EQ(file(0, "x.wav"), "refused at once: prompt slot must be 1..8, got 0");
}

TEST_F(AudioPromptsTest, AModelWithoutAnAudioPathOrAStyleEncoderIsRefusedSayingWhy) {
  play(2 * kRate);
  controls_.use_style_encoder(std::make_shared<FakeStyle>(false));
  EXPECT_EQ(live(1, 1.0), "refused at once: " + FakeStyle(false).audio_missing());
  controls_.use_style_encoder(nullptr);
  EXPECT_EQ(live(1, 1.0), "refused at once: this model has no style encoder (no text tower, no MusicCoCa): set "
                          "/continuo/style/tokens instead");
}

TEST_F(AudioPromptsTest, AFileInThePromptsDirectoryIsMixedResampledAndEmbedded) {
  write_wav(dir_ / "prompts" / "clips" / "riff.wav", sine(0.5, kRate, 2), 2, kRate);  // 1 s, stereo at 8 kHz
  ASSERT_EQ(file(3, "clips/riff.wav"), "");
  const std::vector<WeightedPrompt> in_play = controls_.prompts();
  ASSERT_EQ(in_play.size(), 1u);
  EXPECT_EQ(in_play[0].text, "[audio file clips/riff.wav]");
  EXPECT_GT((*in_play[0].audio)[0], 15000.0f);
  EXPECT_LE((*in_play[0].audio)[0], 16000.0f);
}

TEST_F(AudioPromptsTest, SilentClippedAndUnreadableFilesAreRefused) {
  write_wav(dir_ / "prompts" / "silent.wav", std::vector<float>(kRate, 0.0f), 1, kRate);
  write_wav(dir_ / "prompts" / "hot.wav", sine(4.0, kRate, 1), 1, kRate);
  std::ofstream(dir_ / "prompts" / "notes.txt") << "not audio";
  EXPECT_EQ(file(1, "silent.wav").substr(0, 24), "'silent.wav' is silent: ");
  EXPECT_EQ(file(1, "hot.wav").substr(0, 21), "'hot.wav' is clipped:");
  EXPECT_EQ(file(1, "notes.txt").find((dir_ / "prompts" / "notes.txt").string() + ": not an audio file libsndfile reads"), 0u);
}

TEST_F(AudioPromptsTest, PathsOutsideThePromptsDirectoryAreRefused) {
  write_wav(dir_ / "outside.wav", sine(0.5, kRate, 1), 1, kRate);
  fs::create_symlink(dir_ / "outside.wav", dir_ / "prompts" / "link.wav");
  fs::create_directory_symlink(dir_, dir_ / "prompts" / "up");
  EXPECT_EQ(file(1, "../outside.wav"), "refused at once: '../outside.wav' climbs out with '..': name a file inside prompts.dir");
  EXPECT_EQ(file(1, "clips/../../outside.wav").find("refused at once: 'clips/../../outside.wav' climbs out"), 0u);
  const std::string absolute = (dir_ / "outside.wav").string();
  EXPECT_EQ(file(1, absolute), "refused at once: '" + absolute + "' is an absolute path: name a file inside prompts.dir");
  EXPECT_EQ(file(1, "link.wav"), "refused at once: 'link.wav' leads outside prompts.dir (a symbolic link)");
  EXPECT_EQ(file(1, "up/outside.wav"), "refused at once: 'up/outside.wav' leads outside prompts.dir (a symbolic link)");
  EXPECT_EQ(file(1, "missing.wav").find("refused at once: 'missing.wav' in prompts.dir: "), 0u);
  EXPECT_EQ(file(1, "clips"), "refused at once: 'clips' in prompts.dir is not a file");
  EXPECT_EQ(resolve_prompt_file("", "x.wav").why, "no prompts directory: set prompts.dir in the config");
  EXPECT_TRUE(controls_.prompts().empty());
}

TEST_F(AudioPromptsTest, ANewModelDropsTheAudioSlotsAndAStaleEmbeddingIsRefused) {
  play(2 * kRate);
  ASSERT_EQ(controls_.set_prompt_text(1, "abc"), "");
  ASSERT_EQ(live(2, 1.0), "");
  const auto embedding = controls_.prompts()[1].audio;
  auto next = std::make_shared<FakeStyle>();
  controls_.use_style_encoder(next);
  ASSERT_EQ(controls_.prompts().size(), 1u);
  EXPECT_EQ(controls_.prompts()[0].text, "abc");
  EXPECT_EQ(controls_.set_prompt_audio(2, "[audio]", embedding, style_.get()),
            "the model changed while the audio was embedded: send it again");
  EXPECT_EQ(controls_.set_prompt_audio(2, "[audio]", embedding, next.get()), "");
}

TEST(AudioPrompts, MixToMonoAveragesTheChannels) {
  EXPECT_EQ(mix_to_mono({1, 3, -1, 1}, 2), (std::vector<float>{2, 0}));
  EXPECT_EQ(mix_to_mono({1, 3}, 1), (std::vector<float>{1, 3}));
}

}  // namespace
}  // namespace continuo
