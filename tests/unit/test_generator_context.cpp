// Generator::apply_context: the tokens of the performer's audio reach the model at a frame
// boundary, the lookahead goes stale as on a reset, and the fresh frames are the model's
// continuation of that context, bit for bit; tokens of another model's encoder never apply.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/audio_ring.hpp"
#include "engine/frame_source.hpp"
#include "engine/generator.hpp"
#include "model/mrt2_model.hpp"
#include "tests/fixture_arrays.hpp"

namespace continuo {
namespace {

const std::filesystem::path kFixtures = std::filesystem::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2";
constexpr int kPrefill = 4;
constexpr std::size_t kFrame = 64;  // the tiny model's frame, at its own rate

std::vector<float> drain(AudioRing& ring) {
  std::vector<float> out(ring.readable_frames() * AudioRing::kChannels);
  ring.pop(out);
  return out;
}

std::vector<int> encoded_fixture_audio(AudioEncoder& encoder) {
  return encoder.encode(
      fixtures::read_array<float>(kFixtures / "tiny_encoder/fixtures.safetensors", "audio"));
}

class GeneratorContext : public testing::Test {
 protected:
  GeneratorContext() { model_.reset(0); }
  model::Mrt2Model model_{kFixtures / "tiny_with_encoder", kPrefill};
  ControlState control_{ControlSnapshot{}};
  AudioRing ring_{8 * kFrame};
  // At the model's rate: frames pass through unresampled, so they compare bit for bit.
  FrameSource source_{model_, control_, model_.info().sample_rate, ResamplerQuality::medium};
  Generator generator_{source_, ring_, 4 * kFrame};
};

TEST_F(GeneratorContext, TheFreshFramesContinueTheContext) {
  const std::vector<int> tokens = encoded_fixture_audio(*model_.audio_encoder());
  generator_.start();
  EXPECT_EQ(generator_.apply_context(*model_.audio_encoder(), tokens), "");
  generator_.stop();
  const std::uint64_t stale = ring_.skip_to();  // everything pushed before the boundary
  EXPECT_EQ(generator_.resets(), 1u);
  std::vector<float> heard = drain(ring_);
  while (heard.size() < (stale + 3 * kFrame) * 2) {
    generator_.fill_once();
    const std::vector<float> more = drain(ring_);
    heard.insert(heard.end(), more.begin(), more.end());
  }
  // The reference: the same model, reset to the same context (the generator's reset seed, 0).
  model::Mrt2Model reference(kFixtures / "tiny_with_encoder", kPrefill);
  reference.reset_to_context(0, tokens);
  std::vector<float> expected(3 * kFrame * 2), frame(kFrame * 2);
  for (int f = 0; f < 3; ++f) {
    reference.step(ControlSnapshot{}, frame);
    std::copy(frame.begin(), frame.end(), expected.begin() + f * kFrame * 2);
  }
  EXPECT_EQ(std::vector<float>(heard.begin() + static_cast<std::ptrdiff_t>(stale * 2),
                               heard.begin() + static_cast<std::ptrdiff_t>((stale + 3 * kFrame) * 2)),
            expected);
}

TEST_F(GeneratorContext, TokensOfAnotherModelsEncoderAreNotApplied) {
  const model::Mrt2Model other(kFixtures / "tiny_with_encoder", 0);
  const std::vector<int> tokens = encoded_fixture_audio(*other.audio_encoder());
  generator_.start();
  EXPECT_EQ(generator_.apply_context(*other.audio_encoder(), tokens),
            "the model was switched while the audio was being encoded");
  generator_.stop();
  EXPECT_EQ(ring_.skip_to(), 0u);  // nothing went stale
  EXPECT_EQ(generator_.resets(), 0u);
}

TEST_F(GeneratorContext, AStoppedGeneratorAnswersAtOnce) {
  EXPECT_EQ(generator_.apply_context(*model_.audio_encoder(), encoded_fixture_audio(*model_.audio_encoder())),
            "the generator stopped");
}

}  // namespace
}  // namespace continuo
