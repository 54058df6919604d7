// The SpectroStream encoder against reference encoders, frame by frame from a fresh state.
//
// The official JAX encoder's streamed output in the tiny_encoder fixture
// (tests/fixtures/mrt2/tiny_encoder, tools/make_fixtures.py encoder): 40 token frames of sines +
// noise then digital silence, encoded from the package tests/fixtures/mrt2/tiny_encoder/package
// (tools/mrt2_codec.py, regenerate.sh there). And the PyTorch codec continuo trains, exported
// as a trained one is: tests/fixtures/default_codec (tools/train/make_export_fixture.py), 32
// frames of a 48 kHz default-family codec against SpectroStream.embed / encode. The embeddings
// before quantisation must match to 1e-4 of their scale (the STFT too, against JAX), the codes
// exactly (each fixture's code_margin says how far every reference choice is from a tie).
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
#include <ostream>
#include <span>
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

// An encoder package, the audio it encodes and the reference's embeddings and codes. Call c of
// the streaming encoder answers for token frame c − 1 (its STFT reaches into frame c); the
// reference's row r is call r + row0_call's answer, and calls before valid_from_call have no
// embedding to compare.
struct EncodeReference {
  std::string name;
  std::string dir;         // fixtures.safetensors and package/
  std::string audio_name;  // [T·frame samples, 2] float32, or int16 read as x / 32768
  int row0_call;
  int valid_from_call;
};

void PrintTo(const EncodeReference& reference, std::ostream* os) { *os << reference.name; }

std::vector<float> encoder_input(const std::string& bytes, const std::string& name) {
  const bool pcm = fixtures::locate(bytes, name).dtype == "I16";
  std::vector<float> audio;
  for (const double x : fixtures::read_array_as_doubles(bytes, name)) {
    audio.push_back(static_cast<float>(pcm ? x / 32768.0 : x));
  }
  return audio;
}

class StreamedEncode : public testing::TestWithParam<EncodeReference> {};

TEST_P(StreamedEncode, EmbeddingsAndCodesMatchTheReference) {
  const EncodeReference& ref = GetParam();
  const ModelPackage package = ModelPackage::open(ref.dir + "/package");
  SpectroStreamEncoder encoder(package);
  const std::string bytes = fixtures::read_file(ref.dir + "/fixtures.safetensors");
  const std::vector<float> audio = encoder_input(bytes, ref.audio_name);
  const auto embeddings = fixtures::read_array_as_doubles(bytes, "embeddings");
  const auto codes = fixtures::read_array_as_doubles(bytes, "codes");
  const auto margin = fixtures::read_array_as_doubles(bytes, "code_margin");
  const std::size_t frame = 2 * static_cast<std::size_t>(encoder.frame_samples());
  const int features = encoder.config().codec.features;
  const int rows = static_cast<int>(codes.size() / kLmLevels);
  ASSERT_EQ(audio.size(), rows * frame);

  const std::vector<float> silence(frame, 0.0f);
  double emb_err = 0.0, emb_scale = 0.0, min_margin = 1e30;
  std::chrono::nanoseconds total{0};
  for (int call = 0; call < rows + ref.row0_call; ++call) {
    const FrameCodes got = encoder.encode(call < rows ? std::span<const float>(audio).subspan(call * frame, frame)
                                                      : std::span<const float>(silence));
    total += encoder.last_encode_time();
    const int row = call - ref.row0_call;
    if (row < 0) {
      EXPECT_EQ(got, FrameCodes{}) << "call " << call << " precedes the first frame's answer";
      continue;
    }
    for (int l = 0; l < kLmLevels; ++l) {
      const std::size_t at = std::size_t(row) * kLmLevels + l;
      EXPECT_EQ(got[l], static_cast<int>(codes[at])) << "row " << row << " level " << l << " margin " << margin[at];
      if (call >= ref.valid_from_call) min_margin = std::min(min_margin, margin[at]);
    }
    if (call < ref.valid_from_call) continue;
    const std::span<const float> ours = encoder.last_embedding();
    for (int k = 0; k < features; ++k) {
      const double want = embeddings[std::size_t(row) * features + k];
      emb_err = std::max(emb_err, std::abs(ours[k] - want));
      emb_scale = std::max(emb_scale, std::abs(want));
    }
  }
  std::printf("%s encode: embeddings max error %.3g of %.3g (%.3g), smallest code margin %.3g, %.1f us per call\n",
              ref.name.c_str(), emb_err, emb_scale, emb_err / emb_scale, min_margin,
              std::chrono::duration<double, std::micro>(total).count() / (rows + ref.row0_call));
  EXPECT_LE(emb_err / emb_scale, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    SpectroStreamReferences, StreamedEncode,
    testing::Values(EncodeReference{"tiny_official_jax", kDir, "audio", 0, 1},
                    EncodeReference{"default_family_pytorch",
                                    std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/default_codec",
                                    "encoder_audio", 1, 1}),
    [](const testing::TestParamInfo<EncodeReference>& info) { return info.param.name; });

// The official stream's STFT (only the JAX fixture holds one).
TEST_F(SpectroStreamEncoderParity, StreamsTheOfficialStft) {
  SpectroStreamEncoder encoder(package_);
  const int samples = encoder.frame_samples();
  const int stft_frames = encoder.config().stft_frames();
  const int bins = encoder.config().codec.bins;
  ASSERT_EQ(samples, 64);
  const auto audio = fixture<float>("audio");
  const auto stft = fixture<float>("stft");  // [call·stft_frames + j][bin][L re, L im, R re, R im]
  ASSERT_EQ(audio.size(), std::size_t(kFrames) * samples * 2);

  double stft_err = 0.0, stft_scale = 0.0;
  std::vector<float> official(2 * static_cast<std::size_t>(stft_frames) * bins * 2);  // [channel][frame][bin][re, im]
  for (int t = 0; t < kFrames; ++t) {
    encoder.encode({audio.data() + std::size_t(t) * samples * 2, std::size_t(samples) * 2});
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
  }
  std::printf("stft max error %.3g of %.3g (%.3g)\n", stft_err, stft_scale, stft_err / stft_scale);
  EXPECT_LE(stft_err / stft_scale, 1e-4);
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
