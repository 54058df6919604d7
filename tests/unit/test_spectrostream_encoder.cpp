// The SpectroStream encoder against the official JAX encoder's streamed output in the
// tiny_encoder fixture (tests/fixtures/mrt2/tiny_encoder, tools/make_fixtures.py encoder):
// 40 token frames of sines + noise then digital silence, encoded frame by frame from the
// package tests/fixtures/mrt2/tiny_encoder/package (tools/mrt2_codec.py, regenerate.sh there).
// The STFT and the embeddings before quantisation must match to 1e-4 of their scale, the codes
// exactly (the fixture's code_margin says how far every official choice is from a tie).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/spectrostream.hpp"
#include "model/spectrostream_encoder.hpp"
#include "tests/fixture_arrays.hpp"

namespace continuo::model {
namespace {

const std::string kDir = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/mrt2/tiny_encoder";

template <typename T>
std::vector<T> fixture(const std::string& name) {
  return fixtures::read_array<T>(kDir + "/fixtures.safetensors", name);
}

constexpr int kFrames = 40;

// max |ours − official| over the official's max |value|.
double relative_error(std::span<const float> ours, const float* official, std::size_t n, double& scale) {
  double err = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    err = std::max(err, std::abs(static_cast<double>(ours[i]) - official[i]));
    scale = std::max(scale, std::abs(static_cast<double>(official[i])));
  }
  return err;
}

class SpectroStreamEncoderParity : public testing::Test {
 protected:
  SpectroStreamEncoderParity() : package_(ModelPackage::open(kDir + "/package")) {}
  ModelPackage package_;
};

TEST_F(SpectroStreamEncoderParity, StreamsTheOfficialStftEmbeddingsAndCodes) {
  SpectroStreamEncoder encoder(package_);
  const int samples = encoder.frame_samples();
  const int stft_frames = encoder.config().stft_frames();
  const int bins = encoder.config().codec.bins;
  const int features = encoder.config().codec.features;
  ASSERT_EQ(samples, 64);
  const auto audio = fixture<float>("audio");
  const auto stft = fixture<float>("stft");  // [call·stft_frames + j][bin][L re, L im, R re, R im]
  const auto embeddings = fixture<float>("embeddings");
  const auto codes = fixture<std::int32_t>("codes");
  const auto margin = fixture<float>("code_margin");
  ASSERT_EQ(audio.size(), std::size_t(kFrames) * samples * 2);

  double stft_err = 0.0, stft_scale = 0.0, emb_err = 0.0, emb_scale = 0.0, min_margin = 1e30;
  std::chrono::nanoseconds total{0};
  std::vector<float> official(2 * static_cast<std::size_t>(stft_frames) * bins * 2);  // [channel][frame][bin][re, im]
  for (int t = 0; t < kFrames; ++t) {
    const FrameCodes got = encoder.encode({audio.data() + std::size_t(t) * samples * 2, std::size_t(samples) * 2});
    total += encoder.last_encode_time();
    for (int l = 0; l < kLmLevels; ++l) {
      EXPECT_EQ(got[l], codes[std::size_t(t) * kLmLevels + l])
          << "frame " << t << " level " << l << " margin " << margin[std::size_t(t) * kLmLevels + l];
      if (t > 0) min_margin = std::min<double>(min_margin, margin[std::size_t(t) * kLmLevels + l]);
    }
    if (t == 0) continue;  // the official masked frame: no encoder output to compare
    // Call t encodes token frame t − 1: the official stream's STFT frames
    // stft_frames·t − 1 … (its first stream frame is padding).
    for (int j = 0; j < stft_frames; ++j) {
      const float* row = stft.data() + (std::size_t(stft_frames) * t - 1 + j) * bins * 4;
      for (int c = 0; c < 2; ++c) {
        for (int k = 0; k < bins; ++k) {
          for (int p = 0; p < 2; ++p) {
            official[((std::size_t(c) * stft_frames + j) * bins + k) * 2 + p] = row[k * 4 + c * 2 + p];
          }
        }
      }
    }
    stft_err =
        std::max(stft_err, relative_error(encoder.last_spectrum(), official.data(), official.size(), stft_scale));
    emb_err = std::max(emb_err, relative_error(encoder.last_embedding(),
                                               embeddings.data() + std::size_t(t) * features, features, emb_scale));
  }
  std::printf("stft max error %.3g of %.3g (%.3g), embeddings %.3g of %.3g (%.3g), smallest code margin %.3g, "
              "%.1f us per frame\n",
              stft_err, stft_scale, stft_err / stft_scale, emb_err, emb_scale, emb_err / emb_scale, min_margin,
              std::chrono::duration<double, std::micro>(total).count() / kFrames);
  EXPECT_LE(stft_err / stft_scale, 1e-4);
  EXPECT_LE(emb_err / emb_scale, 1e-4);
}

TEST_F(SpectroStreamEncoderParity, ResetRestartsTheStream) {
  SpectroStreamEncoder encoder(package_);
  const auto audio = fixture<float>("audio");
  const auto codes = fixture<std::int32_t>("codes");
  const std::size_t frame = 2 * std::size_t(encoder.frame_samples());
  for (int t = 0; t < 5; ++t) encoder.encode({audio.data() + 20 * frame + t * frame, frame});
  encoder.reset();
  for (int t = 0; t < 3; ++t) {
    const FrameCodes got = encoder.encode({audio.data() + t * frame, frame});
    EXPECT_TRUE(std::equal(got.begin(), got.end(), codes.begin() + t * kLmLevels)) << "frame " << t;
  }
}

TEST_F(SpectroStreamEncoderParity, SilenceCodesAreTheOfficialMiddleFrame) {
  SpectroStreamEncoder encoder(package_);
  const auto silence = fixture<std::int32_t>("silence_codes");  // [15 calls][levels], call k = frame k − 1
  const FrameCodes first = silence_codes(encoder, 15);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), silence.begin() + (15 / 2 + 1) * kLmLevels));
  EXPECT_EQ(silence_codes(encoder, 15), first);  // deterministic, the encoder left reset
  EXPECT_EQ(encoder.encode(std::vector<float>(2 * std::size_t(encoder.frame_samples()), 0.0f)), FrameCodes{});
}

TEST_F(SpectroStreamEncoderParity, TheDecoderLoadsAPackageWithAnEncoder) {
  EXPECT_TRUE(SpectroStreamEncoder::present(package_));
  const SpectroStreamDecoder decoder(package_);
  EXPECT_EQ(decoder.frame_samples(), 64);
  const std::string tiny = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/mrt2/tiny/codec_package";
  EXPECT_FALSE(SpectroStreamEncoder::present(ModelPackage::open(tiny)));
}

// A copy of the package with one occurrence of `from` replaced by `to` in `file`.
std::filesystem::path edited_package(const std::string& file, const std::string& from, const std::string& to) {
  const auto dir = std::filesystem::temp_directory_path() / ("spectrostream_encoder_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kDir + "/package", dir);
  std::string text = fixtures::read_file(dir / file);
  text.replace(text.find(from), from.size(), to);
  std::ofstream(dir / file, std::ios::binary) << text;
  return dir;
}

std::string refusal(const std::filesystem::path& dir) {
  std::string message = "accepted";
  try {
    const ModelPackage package = ModelPackage::open(dir);
    const SpectroStreamEncoder encoder(package);
  } catch (const ModelFileError& e) {
    message = e.what();
  }
  std::filesystem::remove_all(dir);
  return message;
}

TEST(SpectroStreamEncoderPackage, RefusesNamingTheFirstMismatch) {
  const auto expect = [](const std::filesystem::path& dir, const std::string& expected) {
    const std::string message = refusal(dir);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  };
  // Same-length rename in the safetensors header: the tensor is missing (and another extra).
  expect(edited_package("codec.safetensors", "codec.encoder.output.b2.bias", "codec.encoder.output.b2.xias"),
         "tensor 'codec.encoder.output.b2.bias'");
  expect(edited_package("model.toml", "codec_encoder_base_kernel = 3", "codec_encoder_base_kernel = 5"),
         "codec.encoder.input.kernel");
  expect(edited_package("model.toml", "codec_encoder_block0_channels = 8", "codec_encoder_block0_channels = 6"),
         "codec.encoder.block0.down.kernel");
  expect(edited_package("model.toml", "codec_encoder_bins = 8", ""), "architecture.codec_encoder_bins: missing");
  expect(edited_package("model.toml", "codec_encoder_block1_time_stride = 2", "codec_encoder_block1_time_stride = 1"),
         "architecture.codec_encoder_blocks");
}

}  // namespace
}  // namespace continuo::model
