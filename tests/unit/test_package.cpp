#include "model/package.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace continuo::model {
namespace {

namespace fs = std::filesystem;

// A tensor to write: F32 values, or BF16 zeros when `bf16`.
struct Tensor {
  std::string name;
  Shape shape;
  std::vector<float> values;  // F32: product(shape) values
  bool bf16 = false;
};

std::size_t product(const Shape& shape) {
  std::size_t count = 1;
  for (const std::size_t dim : shape) count *= dim;
  return count;
}

// A safetensors file, byte by byte: header padded to 8, tensors back to back.
std::string safetensors(const std::vector<Tensor>& tensors) {
  std::string header = "{";
  std::string data;
  for (const Tensor& t : tensors) {
    const std::size_t begin = data.size();
    if (t.bf16) {
      data.append(product(t.shape) * 2, '\0');
    } else {
      data.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
    }
    header += (header.size() > 1 ? "," : "") + ("\"" + t.name + "\":{\"dtype\":\"") + (t.bf16 ? "BF16" : "F32") +
              "\",\"shape\":" + format_shape(t.shape) + ",\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data.size()) + "]}";
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  std::string out(8, '\0');
  const std::uint64_t length = header.size();
  std::memcpy(out.data(), &length, 8);  // little-endian host
  return out + header + data;
}

// Lines numbered: errors name them.
const std::string kManifest =
    "[package]\n"                                     // 1
    "name = \"tiny\"\n"                               // 2
    "family = \"mrt2\"\n"                             // 3
    "format_version = 1\n"                            // 4
    "weights = [\"a.safetensors\", \"b.safetensors\"]\n"  // 5
    "\n"                                              // 6
    "[audio]\n"                                       // 7
    "sample_rate = 48000\n"                           // 8
    "channels = 2\n"                                  // 9
    "frame_rate = 25.0\n"                             // 10
    "\n"                                              // 11
    "[provenance]\n"                                  // 12
    "source = \"continuo test fixture\"\n"            // 13
    "licence = \"CC-BY-4.0\"\n"                       // 14
    "attribution = \"the continuo tests\"\n"          // 15
    "\n"                                              // 16
    "[architecture]\n"                                // 17
    "layers = 2\n"                                    // 18
    "eps = 1e-6\n"                                    // 19
    "\n"                                              // 20
    "[tensors]\n"                                     // 21
    "\"enc/w\" = [2, 3]\n";                           // 22

const std::vector<Tensor> kFileA{{"enc/w", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"enc/b", {3}, {0.5f, -0.5f, 0.25f}}};
const std::vector<Tensor> kFileB{{"dec/w", {4, 2}, {}, true}};
const std::vector<TensorSpec> kExpected{{"enc/w", {2, 3}}, {"enc/b", {3}}, {"dec/w", {4, 2}}};

class PackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("continuo_test_package_" + std::to_string(::getpid()) + "_" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& bytes) { std::ofstream(dir_ / name, std::ios::binary) << bytes; }

  // The valid package, its manifest edited: `from` (which must be there) becomes `to`.
  void write_package(const std::string& from = "", const std::string& to = "") {
    std::string manifest = kManifest;
    if (!from.empty()) {
      const auto at = manifest.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      manifest.replace(at, from.size(), to);
    }
    write("model.toml", manifest);
    write("a.safetensors", safetensors(kFileA));
    write("b.safetensors", safetensors(kFileB));
  }

  // The message ModelPackage::open throws (one line), or a failure.
  std::string open_error() {
    try {
      ModelPackage::open(dir_);
    } catch (const ModelFileError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      return message;
    }
    ADD_FAILURE() << "package opened";
    return {};
  }

  std::string check_error(const std::vector<TensorSpec>& expected) {
    const ModelPackage package = ModelPackage::open(dir_);
    try {
      package.check_tensors(expected);
    } catch (const ModelFileError& error) {
      return error.what();
    }
    ADD_FAILURE() << "tensors accepted";
    return {};
  }

  std::string manifest() const { return (dir_ / "model.toml").string(); }
  std::string dir() const { return dir_.string(); }

  fs::path dir_;
};

// ---- A valid package ----------------------------------------------------------------------

TEST_F(PackageTest, ValidPackageOpens) {
  write_package();
  const ModelPackage package = ModelPackage::open(dir_);
  const Manifest& m = package.manifest();
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.family, "mrt2");
  EXPECT_EQ(m.format_version, 1);
  EXPECT_EQ(m.weights, (std::vector<std::string>{"a.safetensors", "b.safetensors"}));
  EXPECT_EQ(m.sample_rate, 48000);
  EXPECT_EQ(m.channels, 2);
  EXPECT_EQ(m.frame_rate, 25.0);
  EXPECT_EQ(m.source, "continuo test fixture");
  EXPECT_EQ(m.licence, "CC-BY-4.0");
  EXPECT_EQ(m.attribution, "the continuo tests");
  EXPECT_EQ(std::get<std::int64_t>(m.architecture.at("layers")), 2);
  EXPECT_EQ(std::get<double>(m.architecture.at("eps")), 1e-6);
  ASSERT_EQ(m.tensors.size(), 1u);
  EXPECT_EQ(m.tensors[0].name, "enc/w");
  EXPECT_EQ(m.tensors[0].shape, (Shape{2, 3}));

  EXPECT_EQ(package.names(), (std::vector<std::string>{"dec/w", "enc/b", "enc/w"}));
  EXPECT_EQ(package.view("enc/w").at(5), 6.0f);
  EXPECT_EQ(package.view("enc/b").at(1), -0.5f);
  EXPECT_EQ(package.view("dec/w").dtype, kernels::DType::bf16);
  EXPECT_EQ(package.file_of("dec/w").path(), (dir_ / "b.safetensors").string());
  EXPECT_NO_THROW(package.check_tensors(kExpected));
}

TEST_F(PackageTest, TensorsSectionIsOptional) {
  write_package("[tensors]\n\"enc/w\" = [2, 3]\n", "");
  EXPECT_TRUE(ModelPackage::open(dir_).manifest().tensors.empty());
}

TEST_F(PackageTest, EmptyArchitectureIsKept) {
  write_package("layers = 2\neps = 1e-6\n", "");
  EXPECT_TRUE(ModelPackage::open(dir_).manifest().architecture.empty());
}

// ---- The directory and the manifest ------------------------------------------------------

TEST_F(PackageTest, MissingManifest) { EXPECT_EQ(open_error(), dir() + ": not a model package (no model.toml)"); }

TEST_F(PackageTest, NotADirectory) {
  dir_ /= "absent";
  EXPECT_EQ(open_error(), dir() + ": not a model package (not a directory)");
}

TEST_F(PackageTest, ManifestSyntaxError) {
  write_package("channels = 2", "channels = = 2");
  EXPECT_EQ(open_error().rfind(manifest() + ":9: ", 0), 0u);
}

TEST_F(PackageTest, BadFormatVersion) {
  write_package("format_version = 1", "format_version = 2");
  EXPECT_EQ(open_error(), manifest() + ":4: package.format_version: must be 1, file has 2");
}

TEST_F(PackageTest, FormatVersionNotAnInteger) {
  write_package("format_version = 1", "format_version = \"1\"");
  EXPECT_EQ(open_error(), manifest() + ":4: package.format_version: must be an integer");
}

TEST_F(PackageTest, MissingKeyNamesItsTable) {
  write_package("name = \"tiny\"\n", "");
  EXPECT_EQ(open_error(), manifest() + ":1: package.name: missing");
}

TEST_F(PackageTest, MissingTable) {
  write_package("[provenance]\nsource = \"continuo test fixture\"\nlicence = \"CC-BY-4.0\"\nattribution = \"the continuo tests\"\n", "");
  EXPECT_EQ(open_error(), manifest() + ": provenance: missing table [provenance]");
}

TEST_F(PackageTest, UnknownKey) {
  write_package("channels = 2", "channels = 2\nchanels = 2");
  EXPECT_EQ(open_error(), manifest() + ":10: audio.chanels: unknown key");
}

TEST_F(PackageTest, UnknownSection) {
  write_package("[tensors]", "[extras]\nx = 1\n[tensors]");
  EXPECT_EQ(open_error(), manifest() + ":21: extras: unknown section");
}

TEST_F(PackageTest, WrongFamily) {
  write_package("family = \"mrt2\"", "family = \"mrt1\"");
  EXPECT_EQ(open_error(), manifest() + ":3: package.family: \"mrt1\" is not a family this build runs (mrt2)");
}

TEST_F(PackageTest, EmptyName) {
  write_package("name = \"tiny\"", "name = \"\"");
  EXPECT_EQ(open_error(), manifest() + ":2: package.name: must not be empty");
}

TEST_F(PackageTest, SampleRateOutOfRange) {
  write_package("sample_rate = 48000", "sample_rate = 0");
  EXPECT_EQ(open_error(), manifest() + ":8: audio.sample_rate: must be between 8000 and 384000, file has 0");
}

TEST_F(PackageTest, ChannelsNotAnInteger) {
  write_package("channels = 2", "channels = 2.0");
  EXPECT_EQ(open_error(), manifest() + ":9: audio.channels: must be an integer");
}

TEST_F(PackageTest, FrameRateNotPositive) {
  write_package("frame_rate = 25.0", "frame_rate = -25.0");
  EXPECT_EQ(open_error(), manifest() + ":10: audio.frame_rate: must be greater than 0");
}

TEST_F(PackageTest, FrameRateMustDivideSampleRate) {
  write_package("frame_rate = 25.0", "frame_rate = 7");
  EXPECT_EQ(open_error(), manifest() + ":10: audio.frame_rate: sample_rate / frame_rate must be a whole number of samples per frame");
}

TEST_F(PackageTest, ProvenanceNotAString) {
  write_package("licence = \"CC-BY-4.0\"", "licence = 4");
  EXPECT_EQ(open_error(), manifest() + ":14: provenance.licence: must be a string");
}

TEST_F(PackageTest, ArchitectureValueNotANumber) {
  write_package("layers = 2", "layers = \"two\"");
  EXPECT_EQ(open_error(), manifest() + ":18: architecture.layers: must be an integer or a number");
}

TEST_F(PackageTest, DeclaredTensorShapeInvalid) {
  write_package("\"enc/w\" = [2, 3]", "\"enc/w\" = [2, -3]");
  EXPECT_EQ(open_error(), manifest() + ":22: tensors.enc/w: dimensions must be non-negative integers");
}

// ---- Weight files -----------------------------------------------------------------------

TEST_F(PackageTest, WeightsPathWithDotDot) {
  write_package("\"b.safetensors\"]", "\"../b.safetensors\"]");
  EXPECT_EQ(open_error(),
            manifest() + ":5: package.weights[1]: \"../b.safetensors\" must be a file name in the package directory (no '/' or '..')");
}

TEST_F(PackageTest, WeightsParentDirectory) {
  write_package("\"b.safetensors\"]", "\"..\"]");
  EXPECT_NE(open_error().find("package.weights[1]: \"..\" must be a file name"), std::string::npos);
}

TEST_F(PackageTest, WeightsAbsolutePath) {
  write_package("\"a.safetensors\",", "\"/etc/a.safetensors\",");
  EXPECT_NE(open_error().find("package.weights[0]: \"/etc/a.safetensors\" must be a file name"), std::string::npos);
}

TEST_F(PackageTest, WeightsEmpty) {
  write_package("[\"a.safetensors\", \"b.safetensors\"]", "[]");
  EXPECT_EQ(open_error(), manifest() + ":5: package.weights: must be a non-empty array of file names");
}

TEST_F(PackageTest, WeightsListedTwice) {
  write_package("\"b.safetensors\"]", "\"a.safetensors\"]");
  EXPECT_EQ(open_error(), manifest() + ":5: package.weights[1]: \"a.safetensors\" is listed twice");
}

TEST_F(PackageTest, WeightsFileMissing) {
  write_package("\"b.safetensors\"]", "\"c.safetensors\"]");
  EXPECT_EQ(open_error(), (dir_ / "c.safetensors").string() + ": cannot open: No such file or directory");
}

TEST_F(PackageTest, WeightsFileCorrupt) {
  write_package();
  write("b.safetensors", safetensors(kFileB).substr(0, 40));
  EXPECT_EQ(open_error().rfind((dir_ / "b.safetensors").string() + ": ", 0), 0u);
}

TEST_F(PackageTest, TensorInTwoFiles) {
  write_package();
  write("b.safetensors", safetensors({{"enc/b", {1}, {1.0f}}}));
  EXPECT_EQ(open_error(), dir() + ": tensor 'enc/b': in both a.safetensors and b.safetensors");
}

// ---- check_tensors ----------------------------------------------------------------------

TEST_F(PackageTest, MissingTensor) {
  write_package();
  std::vector<TensorSpec> expected = kExpected;
  expected.push_back({"dec/b", {4}});
  EXPECT_EQ(check_error(expected), dir() + ": tensor 'dec/b': missing (expected [4])");
}

TEST_F(PackageTest, ExtraTensor) {
  write_package();
  const std::vector<TensorSpec> expected(kExpected.begin(), kExpected.begin() + 2);
  EXPECT_EQ(check_error(expected), (dir_ / "b.safetensors").string() + ": tensor 'dec/w': not expected by this model (extra tensor)");
}

TEST_F(PackageTest, WrongShape) {
  write_package();
  write("b.safetensors", safetensors({{"dec/w", {256, 1024}, {}, true}}));
  std::vector<TensorSpec> expected = kExpected;
  expected[2].shape = {1024, 256};
  EXPECT_EQ(check_error(expected), (dir_ / "b.safetensors").string() + ": tensor 'dec/w': expected [1024, 256], file has [256, 1024]");
}

// Missing before extra before wrong shape, whatever the order of the names; the rest counted.
TEST_F(PackageTest, FirstMismatchInStableOrder) {
  write_package();
  const std::vector<TensorSpec> expected{{"enc/w", {3, 2}}, {"zzz", {1}}, {"aaa", {1}}, {"enc/b", {3}}};
  EXPECT_EQ(check_error(expected), dir() + ": tensor 'zzz': missing (expected [1]) (and 3 more mismatches)");

  const std::vector<TensorSpec> no_missing{{"enc/w", {3, 2}}, {"enc/b", {3}}};
  EXPECT_EQ(check_error(no_missing), (dir_ / "b.safetensors").string() +
                                         ": tensor 'dec/w': not expected by this model (extra tensor) (and 1 more mismatch)");
}

TEST_F(PackageTest, ExpectedListRepeatingANameIsACallerBug) {
  write_package();
  const ModelPackage package = ModelPackage::open(dir_);
  EXPECT_THROW(package.check_tensors({{"enc/b", {3}}, {"enc/b", {3}}}), std::invalid_argument);
}

TEST_F(PackageTest, UnknownTensorName) {
  write_package();
  const ModelPackage package = ModelPackage::open(dir_);
  EXPECT_FALSE(package.contains("nope"));
  EXPECT_THROW(package.view("nope"), ModelFileError);
}

}  // namespace
}  // namespace continuo::model
