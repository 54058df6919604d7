#include "model/safetensors.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace continuo::model {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::byte>;

// ---- A safetensors writer, byte by byte ---------------------------------------------------

void append_le64(Bytes& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
}

// A file from raw header text and data bytes. Pads the header with spaces to a multiple of
// 8, as the reference writer does, so tensors stay aligned; `pad` = false writes it as is.
Bytes file_from(std::string header, const Bytes& data = {}, bool pad = true) {
  while (pad && header.size() % 8 != 0) header += ' ';
  Bytes out;
  append_le64(out, header.size());
  for (const char c : header) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes f32_bytes(const std::vector<float>& values) {
  Bytes out(values.size() * 4);
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

Bytes bf16_bytes(const std::vector<std::uint16_t>& values) {
  Bytes out(values.size() * 2);
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// The header entry of one tensor.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, std::size_t begin,
                  std::size_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

const std::vector<float> kWeights{1.5f, -2.25f, 0.0f, 3.0e-39f /* subnormal */, 65504.0f, -1.0e30f};
const std::vector<std::uint16_t> kBf16{0x3F80 /* 1 */, 0xC000 /* -2 */, 0x7F80 /* inf */, 0x0001 /* tiny */};

// "w": F32 [2, 3] at [0, 24); "b": BF16 [4] at [24, 32); metadata {format: pt}.
Bytes valid_file() {
  Bytes data = f32_bytes(kWeights);
  const Bytes b = bf16_bytes(kBf16);
  data.insert(data.end(), b.begin(), b.end());
  return file_from("{\"__metadata__\":{\"format\":\"pt\"}," + entry("w", "F32", "[2,3]", 0, 24) + "," +
                       entry("b", "BF16", "[4]", 24, 32) + "}",
                   data);
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("continuo_test_safetensors_" + std::to_string(::getpid()) + "_" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const Bytes& bytes, const std::string& name = "model.safetensors") {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }

  // Opening `bytes` must throw ModelFileError: one line, "<path>: ...", containing `problem`.
  std::string refused(const Bytes& bytes, const std::string& problem) {
    const std::string path = write(bytes);
    try {
      SafetensorsFile::open(path);
    } catch (const ModelFileError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_NE(message.find(problem), std::string::npos) << "message: " << message << "\nwanted: " << problem;
      return message.substr(path.size() + 2);
    }
    ADD_FAILURE() << "opened, but expected: " << problem;
    return {};
  }

  fs::path dir_;
};

// ---- Valid files ---------------------------------------------------------------------------

TEST_F(SafetensorsTest, RoundTripsF32AndBf16ValuesExactly) {
  const SafetensorsFile file = SafetensorsFile::open(write(valid_file()));
  EXPECT_EQ(file.names(), (std::vector<std::string>{"b", "w"}));
  EXPECT_EQ(file.metadata().at("format"), "pt");

  const TensorInfo& w = file.info("w");
  EXPECT_EQ(w.dtype, kernels::DType::f32);
  EXPECT_EQ(w.shape, (Shape{2, 3}));
  const kernels::WeightView wv = file.view("w");
  ASSERT_EQ(wv.count, kWeights.size());
  for (std::size_t i = 0; i < kWeights.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(wv.at(i)), std::bit_cast<std::uint32_t>(kWeights[i])) << i;
  }

  const kernels::WeightView bv = file.view("b");
  EXPECT_EQ(bv.dtype, kernels::DType::bf16);
  ASSERT_EQ(bv.count, kBf16.size());
  EXPECT_EQ(bv.at(0), 1.0f);
  EXPECT_EQ(bv.at(1), -2.0f);
  EXPECT_EQ(bv.at(2), std::numeric_limits<float>::infinity());
  for (std::size_t i = 0; i < kBf16.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(bv.at(i)), std::uint32_t{kBf16[i]} << 16) << i;
  }
  EXPECT_EQ(file.bytes("b").size(), 8u);
}

TEST_F(SafetensorsTest, ViewsSurviveMovingTheFile) {
  SafetensorsFile first = SafetensorsFile::open(write(valid_file()));
  const kernels::WeightView view = first.view("w");
  const SafetensorsFile moved = std::move(first);
  EXPECT_EQ(moved.view("w").data, view.data);
  EXPECT_EQ(view.at(0), 1.5f);
}

TEST_F(SafetensorsTest, ScalarAndEmptyTensorsAreValid) {
  const Bytes data = f32_bytes({7.0f});
  const SafetensorsFile file = SafetensorsFile::open(
      write(file_from("{" + entry("scalar", "F32", "[]", 0, 4) + "," + entry("empty", "BF16", "[0,5]", 4, 4) + "}", data)));
  EXPECT_EQ(file.view("scalar").count, 1u);
  EXPECT_EQ(file.view("scalar").at(0), 7.0f);
  EXPECT_EQ(file.view("empty").count, 0u);
}

TEST_F(SafetensorsTest, NoTensorsIsValid) {
  const SafetensorsFile file = SafetensorsFile::open(write(file_from("{}")));
  EXPECT_TRUE(file.names().empty());
}

TEST_F(SafetensorsTest, AcceptsEscapesAndUnicodeInNames) {
  const SafetensorsFile file =
      SafetensorsFile::open(write(file_from("{" + entry("a\\/b\\u00e9\\ud83c\\udfb5", "F32", "[1]", 0, 4) + "}", f32_bytes({1.0f}))));
  EXPECT_EQ(file.names(), (std::vector<std::string>{"a/b\xc3\xa9\xf0\x9f\x8e\xb5"}));
}

TEST_F(SafetensorsTest, ParserIsAPureFunctionOfBytes) {
  const Bytes bytes = valid_file();
  const SafetensorsHeader header = parse_safetensors_header(bytes, "memory");
  ASSERT_EQ(header.tensors.size(), 2u);
  const std::size_t data_start = bytes.size() - 32;
  EXPECT_EQ(header.tensors.at("w").begin, data_start);
  EXPECT_EQ(header.tensors.at("b").end, bytes.size());
  EXPECT_THROW(parse_safetensors_header({}, "memory"), ModelFileError);
}

TEST_F(SafetensorsTest, UnknownNameIsAnError) {
  const SafetensorsFile file = SafetensorsFile::open(write(valid_file()));
  EXPECT_FALSE(file.contains("nope"));
  EXPECT_THROW(file.view("nope"), ModelFileError);
}

// ---- The file itself -------------------------------------------------------------------------

TEST_F(SafetensorsTest, MissingFile) {
  try {
    SafetensorsFile::open(dir_ / "absent.safetensors");
    FAIL();
  } catch (const ModelFileError& error) {
    EXPECT_EQ(std::string(error.what()), (dir_ / "absent.safetensors").string() + ": cannot open: No such file or directory");
  }
}

TEST_F(SafetensorsTest, DirectoryIsNotAFile) {
  EXPECT_THROW(SafetensorsFile::open(dir_), ModelFileError);
}

TEST_F(SafetensorsTest, EmptyFile) { EXPECT_EQ(refused({}, "too short"), "file is 0 bytes, too short for a safetensors header"); }

TEST_F(SafetensorsTest, FileShorterThanEightBytes) { refused(Bytes(5, std::byte{0}), "file is 5 bytes, too short"); }

TEST_F(SafetensorsTest, HeaderLengthPastEndOfFile) {
  Bytes bytes;
  append_le64(bytes, 100);
  bytes.resize(50, std::byte{' '});
  EXPECT_EQ(refused(bytes, "runs past"), "header length 100 runs past the end of the file (50 bytes)");
}

TEST_F(SafetensorsTest, HeaderLengthAbsurd) {
  Bytes bytes;
  append_le64(bytes, std::uint64_t{1} << 63);
  refused(bytes, "header length 9223372036854775808 is absurd (more than 100 MB)");
}

TEST_F(SafetensorsTest, HeaderLengthJustOverLimit) {
  Bytes bytes;
  append_le64(bytes, 100'000'001);
  refused(bytes, "is absurd");
}

// ---- Malformed JSON --------------------------------------------------------------------------

TEST_F(SafetensorsTest, JsonTruncated) { refused(file_from("{\"w\":", {}, false), "header JSON malformed at byte 13: unexpected end"); }

TEST_F(SafetensorsTest, JsonTrailingGarbage) { refused(file_from("{} x"), "unexpected text after the top-level value"); }

TEST_F(SafetensorsTest, JsonTrailingComma) { refused(file_from("{\"a\":1,}"), "expected a string key"); }

TEST_F(SafetensorsTest, JsonBadEscape) { refused(file_from("{\"a\\q\":1}"), "invalid escape"); }

TEST_F(SafetensorsTest, JsonLoneSurrogate) { refused(file_from("{\"\\ud800\":1}"), "unpaired high surrogate"); }

TEST_F(SafetensorsTest, JsonControlCharacterInString) { refused(file_from("{\"a\nb\":1}"), "control character in string"); }

TEST_F(SafetensorsTest, JsonBadNumber) { refused(file_from("{\"a\":{\"shape\":[01]}}"), "expected ','"); }

TEST_F(SafetensorsTest, JsonNestedTooDeeply) {
  // Deep enough to overflow a naive recursive parser's stack; must fail politely.
  refused(file_from("{\"a\":{\"shape\":" + std::string(100000, '[') + std::string(100000, ']') + "}}"), "nested too deeply");
}

TEST_F(SafetensorsTest, HeaderNotUtf8) { refused(file_from("{\"\xff\":1}"), "header is not valid UTF-8 (byte 10)"); }

TEST_F(SafetensorsTest, HeaderOverlongUtf8) { refused(file_from("{\"\xc0\xaf\":1}"), "not valid UTF-8"); }

TEST_F(SafetensorsTest, HeaderNotAnObject) { refused(file_from("[1, 2]"), "header must be a JSON object, not an array"); }

// ---- Wrong shape of JSON -----------------------------------------------------------------

TEST_F(SafetensorsTest, EntryNotAnObject) { EXPECT_EQ(refused(file_from("{\"w\":[1]}"), "entry"), "tensor 'w': entry must be an object, not an array"); }

TEST_F(SafetensorsTest, EntryMissingDtype) {
  refused(file_from("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", f32_bytes({1})), "tensor 'w': missing 'dtype'");
}

TEST_F(SafetensorsTest, EntryUnknownKey) {
  refused(file_from("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", f32_bytes({1})),
          "tensor 'w': unknown key 'x' (expected dtype, shape, data_offsets)");
}

TEST_F(SafetensorsTest, EntryRepeatedKey) {
  refused(file_from("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", f32_bytes({1})),
          "tensor 'w': key 'dtype' appears twice");
}

TEST_F(SafetensorsTest, EmptyName) { refused(file_from("{" + entry("", "F32", "[1]", 0, 4) + "}", f32_bytes({1})), "empty name"); }

TEST_F(SafetensorsTest, MetadataNotStrings) {
  refused(file_from("{\"__metadata__\":{\"k\":1}}"), "__metadata__ 'k': must be a string, not a number");
}

TEST_F(SafetensorsTest, MetadataNotAnObject) { refused(file_from("{\"__metadata__\":\"x\"}"), "__metadata__ must be an object"); }

TEST_F(SafetensorsTest, NamesWithControlCharactersAreEscapedInErrors) {
  const std::string message = refused(file_from("{" + entry("a\\nb", "F16", "[1]", 0, 2) + "}"), "not supported");
  EXPECT_EQ(message, "tensor 'a\\x0ab': dtype F16 not supported (F32 or BF16)");
}

// ---- dtype -------------------------------------------------------------------------------

TEST_F(SafetensorsTest, DtypeF16NotSupported) {
  EXPECT_EQ(refused(file_from("{" + entry("w", "F16", "[1]", 0, 2) + "}", Bytes(8)), "dtype"),
            "tensor 'w': dtype F16 not supported (F32 or BF16)");
}

TEST_F(SafetensorsTest, DtypeUnknown) { refused(file_from("{" + entry("w", "Q4", "[1]", 0, 1) + "}", Bytes(8)), "dtype Q4 not supported (F32 or BF16)"); }

TEST_F(SafetensorsTest, DtypeNotAString) {
  refused(file_from("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", Bytes(8)), "tensor 'w': dtype must be a string, not a number");
}

// ---- shape -------------------------------------------------------------------------------

TEST_F(SafetensorsTest, ShapeNegativeDim) { refused(file_from("{" + entry("w", "F32", "[2,-1]", 0, 8) + "}", Bytes(8)), "tensor 'w': shape dimension 1: -1 is negative"); }

TEST_F(SafetensorsTest, ShapeFractionalDim) { refused(file_from("{" + entry("w", "F32", "[2.5]", 0, 8) + "}", Bytes(8)), "shape dimension 0: 2.5 is not an integer"); }

TEST_F(SafetensorsTest, ShapeExponentDim) { refused(file_from("{" + entry("w", "F32", "[1e1]", 0, 40) + "}", Bytes(40)), "1e1 is not an integer"); }

TEST_F(SafetensorsTest, ShapeStringDim) { refused(file_from("{" + entry("w", "F32", "[\"2\"]", 0, 8) + "}", Bytes(8)), "a string is not an integer"); }

TEST_F(SafetensorsTest, ShapeNotAnArray) { refused(file_from("{" + entry("w", "F32", "2", 0, 8) + "}", Bytes(8)), "shape must be an array of integers, not a number"); }

TEST_F(SafetensorsTest, ShapeTooManyDims) {
  refused(file_from("{" + entry("w", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) + "}", Bytes(8)), "shape has 9 dimensions (at most 8)");
}

TEST_F(SafetensorsTest, ShapeDimPast64Bits) {
  refused(file_from("{" + entry("w", "F32", "[18446744073709551616]", 0, 4) + "}", Bytes(8)), "18446744073709551616 does not fit in 64 bits");
}

TEST_F(SafetensorsTest, ShapeElementCountOverflows) {
  refused(file_from("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 4) + "}", Bytes(8)),
          "tensor 'w': shape [4294967296, 4294967296] has more elements than 64 bits can count");
}

TEST_F(SafetensorsTest, ShapeByteSizeOverflows) {
  // 2^62 elements fit in 64 bits; 2^62 × 4 bytes do not.
  refused(file_from("{" + entry("w", "F32", "[4611686018427387904]", 0, 4) + "}", Bytes(8)), "needs more than 64 bits can count");
}

// ---- data_offsets ------------------------------------------------------------------------

TEST_F(SafetensorsTest, OffsetsNotTwoIntegers) {
  refused(file_from("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", Bytes(8)), "tensor 'w': data_offsets must be two integers [begin, end]");
}

TEST_F(SafetensorsTest, OffsetsNotIntegers) {
  refused(file_from("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", Bytes(8)), "data_offsets end: a string is not an integer");
}

TEST_F(SafetensorsTest, OffsetsNegative) {
  refused(file_from("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", Bytes(8)), "data_offsets begin: -4 is negative");
}

TEST_F(SafetensorsTest, OffsetsBeginAfterEnd) { refused(file_from("{" + entry("w", "F32", "[1]", 8, 4) + "}", Bytes(8)), "tensor 'w': data_offsets begin 8 is after end 4"); }

TEST_F(SafetensorsTest, OffsetsEndBeyondFile) {
  refused(file_from("{" + entry("w", "F32", "[4]", 0, 16) + "}", Bytes(8)), "tensor 'w': data_offsets end 16 is beyond the end of the file (8 data bytes)");
}

TEST_F(SafetensorsTest, OffsetsHuge) {
  refused(file_from("{" + entry("w", "F32", "[1]", 18446744073709551612ull, 18446744073709551615ull) + "}", Bytes(8)), "is beyond the end of the file");
}

TEST_F(SafetensorsTest, ByteSizeDoesNotMatchShape) {
  EXPECT_EQ(refused(file_from("{" + entry("w", "F32", "[3]", 0, 8) + "}", Bytes(16)), "bytes"),
            "tensor 'w': 8 bytes in data_offsets, but shape [3] of F32 needs 12");
}

TEST_F(SafetensorsTest, Bf16ByteSizeDoesNotMatchShape) {
  refused(file_from("{" + entry("w", "BF16", "[2,2]", 0, 16) + "}", Bytes(16)), "16 bytes in data_offsets, but shape [2, 2] of BF16 needs 8");
}

TEST_F(SafetensorsTest, MisalignedF32) {
  refused(file_from("{" + entry("w", "F32", "[1]", 2, 6) + "}", Bytes(8)), "not aligned to 4 bytes (F32)");
}

TEST_F(SafetensorsTest, UnpaddedHeaderMisalignsData) {
  // An odd-length header puts the data at an odd file offset.
  std::string header = "{" + entry("w", "BF16", "[1]", 0, 2) + "}";
  if (header.size() % 2 == 0) header += ' ';
  refused(file_from(header, Bytes(2), false), "not aligned to 2 bytes (BF16)");
}

// ---- Between tensors ---------------------------------------------------------------------

TEST_F(SafetensorsTest, OverlappingTensors) {
  refused(file_from("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", Bytes(16)),
          "tensor 'b': bytes overlap tensor 'a'");
}

TEST_F(SafetensorsTest, SameBytesTwice) {
  refused(file_from("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "BF16", "[4]", 0, 8) + "}", Bytes(8)), "overlap");
}

TEST_F(SafetensorsTest, DuplicateNames) {
  EXPECT_EQ(refused(file_from("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}", Bytes(8)), "duplicate"),
            "tensor 'a': duplicate name");
}

TEST_F(SafetensorsTest, DuplicateMetadata) { refused(file_from("{\"__metadata__\":{},\"__metadata__\":{}}"), "__metadata__ appears twice"); }

// ---- Truncation ----------------------------------------------------------------------------

// Every prefix of a valid file is refused cleanly; only the whole file opens.
TEST_F(SafetensorsTest, TruncatedAtEveryByte) {
  const Bytes whole = valid_file();
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    const Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(SafetensorsFile::open(write(prefix)), ModelFileError) << "cut at " << cut;
  }
  EXPECT_NO_THROW(SafetensorsFile::open(write(whole)));
}

// Every single-byte corruption of the header either opens or is refused, never crashes;
// the sanitizer build checks no read leaves the file.
TEST_F(SafetensorsTest, EveryHeaderByteFlipped) {
  const Bytes whole = valid_file();
  for (std::size_t at = 0; at < whole.size() - 32; ++at) {
    for (const unsigned char value : {0x00, 0x22, 0x5d, 0x7d, 0x80, 0xff}) {
      Bytes bent = whole;
      bent[at] = static_cast<std::byte>(value);
      try {
        (void)parse_safetensors_header(bent, "bent");
      } catch (const ModelFileError&) {
      }
    }
  }
}

}  // namespace
}  // namespace continuo::model
