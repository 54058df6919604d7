// The SpectroStream decoder against reference decoders, frame by frame from a fresh state.
//
// The official JAX decoder's streamed output in the tiny fixture (tests/fixtures/mrt2/tiny,
// tools/make_fixtures.py): the 104 frames of `codes` decoded from the codec-only package
// tests/fixtures/mrt2/tiny/codec_package (tools/mrt2_codec.py, regenerate.sh there), compared
// with `audio_int16`. And the PyTorch codec continuo trains (tools/train/mrt2_torch), exported
// the way a trained one is (to_official() -> tools/mrt2_codec.py): tests/fixtures/default_codec,
// a random codec of the default config's family at 48 kHz (tools/train/make_export_fixture.py),
// its 32 frames of codes against SpectroStream.decode_streaming; and tests/fixtures/
// default_codec_phase, the same family in the phase_accumulate output mode (codec_phase_accumulate
// = 1: magnitudes and phase advances integrated per bin), 24 frames; and default_codec_peak, in
// the peak_phase output mode (codec_peak_phase = 1: magnitudes phased from their peaks; a seed
// whose every peak decision is clear of the decoder's rounding), 24 frames.
//
// Two comparisons. (1) On the float signal (every fixture; the tiny one's before the official
// int16 conversion, audio_float.safetensors: tools/make_fixtures.py audio-float, the same codes
// re-decoded by the official sampler's SpectroStream layers, whose int16 conversion reproduces
// audio_int16 exactly): relative error max|ours − reference| / max|reference| over the whole
// signal ≤ 1e-4 against JAX (issue 3), ≤ 1e-5 against PyTorch (issue 6). Normalised by the
// signal's peak, not each frame's: fp32 rounding error is absolute, of the order of the
// intermediate activations, so a quiet frame's own peak would inflate it without meaning
// anything audible (frame 0 is exact silence, peak 0); the per-frame figure is printed for
// information. (2) On int16 after the official conversion, ±1 LSB against the tiny fixture's
// stored audio_int16: a sample landing near a rounding boundary may round either way in an
// fp32 re-implementation (different summation order). Every frame must match, including the
// silent first.
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
#include <utility>
#include <vector>

#include "model/spectrostream.hpp"
#include "tests/fixture_arrays.hpp"

namespace continuo::model {
namespace {

const std::string kTiny = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/mrt2/tiny";

template <typename T>
std::vector<T> read_fixture(const std::string& name) {
  return fixtures::read_array<T>(kTiny + "/fixtures.safetensors", name);
}

constexpr int kFrames = 104;

class SpectroStreamParity : public testing::Test {
 protected:
  SpectroStreamParity() : package_(ModelPackage::open(kTiny + "/codec_package")) {}
  ModelPackage package_;
};

TEST_F(SpectroStreamParity, ReadsTheTinyConfig) {
  const SpectroStreamDecoder decoder(package_);
  EXPECT_EQ(decoder.frame_samples(), 64);
  EXPECT_EQ(decoder.sample_rate(), 3200);
  EXPECT_EQ(decoder.latency_frames(), 1);
  EXPECT_EQ(decoder.config().stft_frames(), 2);
}

TEST_F(SpectroStreamParity, StreamedFramesMatchTheOfficialInt16Output) {
  const std::vector<std::int32_t> codes = read_fixture<std::int32_t>("codes");
  const std::vector<std::int16_t> official = read_fixture<std::int16_t>("audio_int16");
  SpectroStreamDecoder decoder(package_);
  const auto samples = static_cast<std::size_t>(2 * decoder.frame_samples());
  ASSERT_EQ(codes.size(), kFrames * static_cast<std::size_t>(kLmLevels));
  ASSERT_EQ(official.size(), kFrames * samples);

  std::vector<float> out(samples);
  int worst = 0, exact = 0, nonzero = 0;
  std::chrono::nanoseconds total{0};
  for (int t = 0; t < kFrames; ++t) {
    FrameCodes frame{};
    std::copy_n(codes.begin() + t * kLmLevels, kLmLevels, frame.begin());
    decoder.decode(frame, out);
    total += decoder.last_decode_time();
    for (std::size_t i = 0; i < samples; ++i) {
      const int want = official[t * samples + i];
      const int diff = std::abs(SpectroStreamDecoder::to_int16(out[i]) - want);
      worst = std::max(worst, diff);
      exact += diff == 0;
      nonzero += want != 0;
      if (t == 0) ASSERT_EQ(out[i], 0.0f) << "the lookahead frame must be silent";
    }
  }
  std::printf("tiny decode: max |int16 diff| %d LSB, %d of %zu samples exact, %.1f us/frame\n", worst, exact,
              kFrames * samples, std::chrono::duration<double, std::micro>(total).count() / kFrames);
  EXPECT_LE(worst, 1);
  EXPECT_GT(nonzero, static_cast<int>(kFrames * samples / 2)) << "the fixture should not be mostly silence";
}

// A package, the codes it decodes and the float audio a reference decoder streamed from them.
struct DecodeReference {
  std::string name;
  std::string package;
  std::string codes_file;  // int32 `codes` [T, 12]
  std::string audio_file;  // float32 `audio_name` [T, frame samples, 2]
  std::string audio_name;
  double tolerance;  // of the reference signal's peak
};

void PrintTo(const DecodeReference& reference, std::ostream* os) { *os << reference.name; }

const std::string kDefaultCodec = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/default_codec";
const std::string kPhaseCodec = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/default_codec_phase";
const std::string kPeakCodec = std::string(CONTINUO_SOURCE_DIR) + "/tests/fixtures/default_codec_peak";

// A reference of the PyTorch codec's family: make_export_fixture.py's package and arrays in `dir`.
DecodeReference pytorch_reference(const std::string& name, const std::string& dir, double tolerance = 1e-5) {
  return {name, dir + "/package", dir + "/fixtures.safetensors", dir + "/fixtures.safetensors", "audio", tolerance};
}

// The peak_phase mode integrates each frame's peak frequencies, read off a parabola through
// three log magnitudes: a flat peak turns the fp32 rounding of its magnitudes (~1e-7) into a
// frequency error of ~1e-5 bins, which the locked phase adds up frame after frame (the error
// grows with the frames: 1.3e-5 of the peak over these 24). As against JAX, 1e-4.
constexpr double kPeakPhaseTolerance = 1e-4;

class StreamedDecode : public testing::TestWithParam<DecodeReference> {};

TEST_P(StreamedDecode, FloatSignalMatchesTheReference) {
  const DecodeReference& ref = GetParam();
  const auto codes = fixtures::read_array<std::int32_t>(ref.codes_file, "codes");
  const auto reference = fixtures::read_array<float>(ref.audio_file, ref.audio_name);
  const ModelPackage package = ModelPackage::open(ref.package);
  SpectroStreamDecoder decoder(package);
  const auto samples = static_cast<std::size_t>(2 * decoder.frame_samples());
  const int frames = static_cast<int>(codes.size() / kLmLevels);
  ASSERT_EQ(reference.size(), frames * samples);

  std::vector<float> ours(reference.size());
  for (int t = 0; t < frames; ++t) {
    FrameCodes frame{};
    std::copy_n(codes.begin() + t * kLmLevels, kLmLevels, frame.begin());
    decoder.decode(frame, std::span<float>(ours).subspan(t * samples, samples));
  }
  double peak = 0.0, worst = 0.0, worst_in_frame = 0.0;
  int worst_frame = -1;
  for (int t = 0; t < frames; ++t) {
    double frame_peak = 0.0, frame_worst = 0.0;
    for (std::size_t i = t * samples; i < (t + 1) * samples; ++i) {
      frame_peak = std::max(frame_peak, std::abs(static_cast<double>(reference[i])));
      frame_worst = std::max(frame_worst, std::abs(static_cast<double>(ours[i]) - reference[i]));
    }
    peak = std::max(peak, frame_peak);
    worst = std::max(worst, frame_worst);
    if (frame_peak > 0.0 && frame_worst / frame_peak > worst_in_frame) {
      worst_in_frame = frame_worst / frame_peak;
      worst_frame = t;
    }
  }
  ASSERT_GT(peak, 0.0);
  const double relative = worst / peak;
  std::printf("%s decode float: max|err| %.3g, peak %.3g, relative (signal peak) %.3g; "
              "per frame against its own peak at most %.3g (frame %d)\n",
              ref.name.c_str(), worst, peak, relative, worst_in_frame, worst_frame);
  EXPECT_LE(relative, ref.tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    SpectroStreamReferences, StreamedDecode,
    testing::Values(DecodeReference{"tiny_official_jax", kTiny + "/codec_package", kTiny + "/fixtures.safetensors",
                                    kTiny + "/audio_float.safetensors", "audio_float", 1e-4},
                    pytorch_reference("default_family_pytorch", kDefaultCodec),
                    pytorch_reference("default_family_phase_accumulate_pytorch", kPhaseCodec),
                    pytorch_reference("default_family_peak_phase_pytorch", kPeakCodec, kPeakPhaseTolerance)),
    [](const testing::TestParamInfo<DecodeReference>& info) { return info.param.name; });

TEST(SpectroStreamDefaultFamily, ReadsThe48kHzConfig) {
  const ModelPackage package = ModelPackage::open(kDefaultCodec + "/package");
  const SpectroStreamDecoder decoder(package);
  EXPECT_EQ(decoder.frame_samples(), 1920);
  EXPECT_EQ(decoder.sample_rate(), 48000);
  EXPECT_EQ(decoder.latency_frames(), 1);
  EXPECT_EQ(decoder.config().stft_frames(), 4);
  EXPECT_FALSE(decoder.config().phase_accumulate);  // codec_phase_accumulate absent
  EXPECT_FALSE(decoder.config().peak_phase);
  const ModelPackage phase = ModelPackage::open(kPhaseCodec + "/package");
  EXPECT_TRUE(SpectroStreamDecoder(phase).config().phase_accumulate);
  const ModelPackage peak = ModelPackage::open(kPeakCodec + "/package");
  EXPECT_TRUE(SpectroStreamDecoder(peak).config().peak_phase);
  EXPECT_FALSE(SpectroStreamDecoder(peak).config().phase_accumulate);
}

// Also in the phase_accumulate and peak_phase modes: reset() clears their phases too.
TEST(SpectroStreamReset, RestartsTheStream) {
  for (const auto& [package_dir, fixture_dir] : {std::pair{kTiny + "/codec_package", kTiny},
                                                 std::pair{kPhaseCodec + "/package", kPhaseCodec},
                                                 std::pair{kPeakCodec + "/package", kPeakCodec}}) {
    const auto codes = fixtures::read_array<std::int32_t>(fixture_dir + "/fixtures.safetensors", "codes");
    const ModelPackage package = ModelPackage::open(package_dir);
    SpectroStreamDecoder decoder(package);
    std::vector<float> first(2 * static_cast<std::size_t>(decoder.frame_samples()));
    std::vector<float> again(first.size());
    FrameCodes frame{};
    for (int pass = 0; pass < 2; ++pass) {
      decoder.reset();
      for (int t = 0; t < 5; ++t) {
        std::copy_n(codes.begin() + t * kLmLevels, kLmLevels, frame.begin());
        decoder.decode(frame, pass == 0 ? first : again);
      }
    }
    EXPECT_EQ(first, again) << package_dir;
  }
}

TEST(SpectroStreamOutput, OfficialInt16Conversion) {
  EXPECT_EQ(SpectroStreamDecoder::to_int16(0.0f), 0);  // round(−0.5) = −0 (half to even)
  EXPECT_EQ(SpectroStreamDecoder::to_int16(2.0f), 32767);
  EXPECT_EQ(SpectroStreamDecoder::to_int16(5.0f), 32767);  // clipped
  EXPECT_EQ(SpectroStreamDecoder::to_int16(-2.0f), -32768);
  EXPECT_EQ(SpectroStreamDecoder::playback_sample(1.0f), 0.5f);
  EXPECT_EQ(SpectroStreamDecoder::playback_sample(-3.0f), -1.0f);
}

// A copy of the tiny package with one model.toml line replaced.
std::filesystem::path edited_package(const std::string& from, const std::string& to) {
  const auto dir = std::filesystem::temp_directory_path() / ("spectrostream_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kTiny + "/codec_package", dir);
  std::ifstream in(dir / "model.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find(from), from.size(), to);
  std::ofstream(dir / "model.toml") << text;
  return dir;
}

std::string refusal(const std::filesystem::path& dir) {
  const ModelPackage package = ModelPackage::open(dir);
  try {
    const SpectroStreamDecoder decoder(package);
  } catch (const ModelFileError& e) {
    std::filesystem::remove_all(dir);
    return e.what();
  }
  std::filesystem::remove_all(dir);
  return "accepted";
}

void expect_refusal(const std::filesystem::path& dir, const std::string& expected) {
  const std::string message = refusal(dir);
  EXPECT_NE(message.find(expected), std::string::npos) << message;
}

TEST(SpectroStreamPackage, RefusesNamingTheFirstMismatch) {
  expect_refusal(edited_package("codec_block1_channels = 4", "codec_block1_channels = 5"),
                 "tensor 'codec.block1.up.kernel': expected [3, 4, 8, 5], file has [3, 4, 8, 4]");
  expect_refusal(edited_package("codec_hop = 32", ""), "architecture.codec_hop: missing");
  expect_refusal(edited_package("codec_frame_samples = 64", "codec_frame_samples = 32"),
                 "architecture.codec_frame_samples: must be");
  expect_refusal(edited_package("codec_blocks = 2", "codec_blocks = 1"), "architecture.codec_bins");
  expect_refusal(edited_package("codec_hop = 32", "codec_hop = 32\ncodec_phase_accumulate = 2"),
                 "/model.toml: architecture.codec_phase_accumulate: must be 0 or 1");
  expect_refusal(edited_package("codec_hop = 32", "codec_hop = 32\ncodec_phase_accumulate = 1\ncodec_peak_phase = 1"),
                 "/model.toml: architecture.codec_peak_phase: cannot be 1 with codec_phase_accumulate = 1");
}

}  // namespace
}  // namespace continuo::model
