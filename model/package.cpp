#include "model/package.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <span>
#include <sstream>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace continuo::model {
namespace {

namespace fs = std::filesystem;

// The manifest version this build reads; a later converter bumps it on incompatible change.
constexpr std::int64_t kFormatVersion = 1;
constexpr std::size_t kMaxDims = 8;

// ---- Reading model.toml ------------------------------------------------------------------

// Files the manifest names live in the package directory itself: no paths out of it.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

// Names where a problem is: "<dir>/model.toml:<line>: <key>: <problem>", the line left out
// when toml++ does not know it (a key that is missing from a table that is missing).
struct ManifestReader {
  std::string file;

  [[noreturn]] void fail(const std::string& key, const toml::source_region& at, const std::string& problem) const {
    const std::string where = at.begin.line == 0 ? file : file + ":" + std::to_string(at.begin.line);
    throw ModelFileError(where + ": " + key + ": " + problem);
  }
  [[noreturn]] void fail(const std::string& key, const toml::node& node, const std::string& problem) const {
    fail(key, node.source(), problem);
  }

  // A required table; its keys must all be in `known`.
  const toml::table& table(const toml::table& root, const std::string& name, std::initializer_list<std::string_view> known) const {
    const toml::node* node = root.get(name);
    // The root's "line 1" would mislead: a missing table has no line.
    if (node == nullptr) fail(name, toml::source_region{}, "missing table [" + name + "]");
    const toml::table* table = node->as_table();
    if (table == nullptr) fail(name, *node, "must be a table");
    if (known.size() > 0) {
      for (const auto& [key, value] : *table) {
        if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
          fail(name + "." + std::string(key.str()), value, "unknown key");
        }
      }
    }
    return *table;
  }

  const toml::node& required(const toml::table& table, const std::string& section, std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) fail(section + "." + std::string(key), table.source(), "missing");
    return *node;
  }

  std::string text(const toml::table& table, const std::string& section, std::string_view key) const {
    const toml::node& node = required(table, section, key);
    const std::string name = section + "." + std::string(key);
    if (!node.is_string()) fail(name, node, "must be a string");
    std::string value = node.as_string()->get();
    if (value.empty()) fail(name, node, "must not be empty");
    return value;
  }

  std::int64_t integer(const toml::table& table, const std::string& section, std::string_view key, std::int64_t lo,
                       std::int64_t hi) const {
    const toml::node& node = required(table, section, key);
    const std::string name = section + "." + std::string(key);
    if (!node.is_integer()) fail(name, node, "must be an integer");
    const std::int64_t value = node.as_integer()->get();
    if (value < lo || value > hi) {
      fail(name, node, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", file has " + std::to_string(value));
    }
    return value;
  }

  // A string naming a file in the package directory.
  std::string file_name(const toml::table& table, const std::string& section, std::string_view key) const {
    const std::string name = text(table, section, key);
    if (!plain_file_name(name)) {
      fail(section + "." + std::string(key), *table.get(key), "\"" + name + "\" must be a file name in the package directory (no '/' or '..')");
    }
    return name;
  }

  double number(const toml::table& table, const std::string& section, std::string_view key) const {
    const toml::node& node = required(table, section, key);
    const std::string name = section + "." + std::string(key);
    if (!node.is_number()) fail(name, node, "must be a number");
    const double value = *node.value<double>();
    if (!(value > 0.0) || !std::isfinite(value)) fail(name, node, "must be greater than 0");
    return value;
  }
};

void read_package(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  const toml::table& package = reader.table(root, "package", {"name", "family", "format_version", "weights"});
  manifest.name = reader.text(package, "package", "name");
  manifest.family = reader.text(package, "package", "family");
  if (manifest.family != "mrt2") {
    reader.fail("package.family", *package.get("family"), "\"" + manifest.family + "\" is not a family this build runs (mrt2)");
  }
  const toml::node& version = reader.required(package, "package", "format_version");
  if (!version.is_integer()) reader.fail("package.format_version", version, "must be an integer");
  if (version.as_integer()->get() != kFormatVersion) {
    reader.fail("package.format_version", version,
                "must be " + std::to_string(kFormatVersion) + ", file has " + std::to_string(version.as_integer()->get()));
  }
  manifest.format_version = static_cast<int>(kFormatVersion);

  const toml::node& weights = reader.required(package, "package", "weights");
  const toml::array* files = weights.as_array();
  if (files == nullptr || files->empty()) reader.fail("package.weights", weights, "must be a non-empty array of file names");
  for (std::size_t i = 0; i < files->size(); ++i) {
    const toml::node& item = *files->get(i);
    const std::string key = "package.weights[" + std::to_string(i) + "]";
    if (!item.is_string()) reader.fail(key, item, "must be a string");
    const std::string name = item.as_string()->get();
    if (!plain_file_name(name)) reader.fail(key, item, "\"" + name + "\" must be a file name in the package directory (no '/' or '..')");
    if (std::find(manifest.weights.begin(), manifest.weights.end(), name) != manifest.weights.end()) {
      reader.fail(key, item, "\"" + name + "\" is listed twice");
    }
    manifest.weights.push_back(name);
  }
}

void read_audio(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  const toml::table& audio = reader.table(root, "audio", {"sample_rate", "channels", "frame_rate"});
  manifest.sample_rate = static_cast<int>(reader.integer(audio, "audio", "sample_rate", 8000, 384000));
  manifest.channels = static_cast<int>(reader.integer(audio, "audio", "channels", 1, 2));
  manifest.frame_rate = reader.number(audio, "audio", "frame_rate");
  // The engine moves whole frames of samples: the rate must divide evenly.
  const double samples_per_frame = manifest.sample_rate / manifest.frame_rate;
  if (samples_per_frame < 1.0 || samples_per_frame != std::floor(samples_per_frame)) {
    reader.fail("audio.frame_rate", *audio.get("frame_rate"),
                "sample_rate / frame_rate must be a whole number of samples per frame");
  }
}

void read_provenance(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  const toml::table& provenance = reader.table(root, "provenance", {"source", "licence", "attribution"});
  manifest.source = reader.text(provenance, "provenance", "source");
  manifest.licence = reader.text(provenance, "provenance", "licence");
  manifest.attribution = reader.text(provenance, "provenance", "attribution");
}

void read_architecture(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  const toml::table& architecture = reader.table(root, "architecture", {});
  for (const auto& [key, value] : architecture) {
    const std::string name = "architecture." + std::string(key.str());
    if (value.is_integer()) {
      manifest.architecture.emplace(std::string(key.str()), value.as_integer()->get());
    } else if (value.is_floating_point()) {
      manifest.architecture.emplace(std::string(key.str()), value.as_floating_point()->get());
    } else {
      reader.fail(name, value, "must be an integer or a number");
    }
  }
}

Shape read_declared_shape(const ManifestReader& reader, const std::string& name, const toml::node& node) {
  const toml::array* dims = node.as_array();
  if (dims == nullptr) reader.fail(name, node, "must be an array of dimensions");
  if (dims->size() > kMaxDims) reader.fail(name, node, "has more than " + std::to_string(kMaxDims) + " dimensions");
  Shape shape;
  for (const toml::node& dim : *dims) {
    if (!dim.is_integer() || dim.as_integer()->get() < 0) reader.fail(name, dim, "dimensions must be non-negative integers");
    shape.push_back(static_cast<std::size_t>(dim.as_integer()->get()));
  }
  return shape;
}

void read_tensors(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  if (root.get("tensors") == nullptr) return;  // optional
  const toml::table& tensors = reader.table(root, "tensors", {});
  for (const auto& [key, value] : tensors) {
    const std::string name(key.str());
    manifest.tensors.push_back({name, read_declared_shape(reader, "tensors." + name, value)});
  }
  std::sort(manifest.tensors.begin(), manifest.tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

void read_text_tower(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  if (root.get("text_tower") == nullptr) return;  // optional: a model without text prompts
  const std::string section = "text_tower";
  const toml::table& table = reader.table(root, section,
                                          {"weights", "vocab", "word_dims", "hidden_dims", "buckets", "ngram_min",
                                           "ngram_max", "max_words", "codebook"});
  TextTowerManifest tower;
  tower.weights = reader.file_name(table, section, "weights");
  if (std::find(manifest.weights.begin(), manifest.weights.end(), tower.weights) != manifest.weights.end()) {
    reader.fail("text_tower.weights", *table.get("weights"),
                "\"" + tower.weights + "\" is also in package.weights (the text tower's file is its own)");
  }
  tower.vocab = reader.file_name(table, section, "vocab");
  const auto size = [&](std::string_view key, std::int64_t lo, std::int64_t hi) {
    return static_cast<std::size_t>(reader.integer(table, section, key, lo, hi));
  };
  tower.word_dims = size("word_dims", 1, 4096);
  tower.hidden_dims = size("hidden_dims", 1, 65536);
  tower.buckets = size("buckets", 1, 1 << 24);
  tower.ngram_min = size("ngram_min", 1, 16);
  tower.ngram_max = size("ngram_max", static_cast<std::int64_t>(tower.ngram_min), 16);
  tower.max_words = size("max_words", 1, 1024);
  tower.codebook = size("codebook", 1, 65536);
  manifest.text_tower = tower;
}

void read_musiccoca(const ManifestReader& reader, const toml::table& root, Manifest& manifest) {
  if (root.get("musiccoca") == nullptr) return;  // optional: converted official weights only
  const std::string section = "musiccoca";
  const toml::table& table =
      reader.table(root, section, {"text_encoder", "quantizer", "spm", "audio_preprocessor", "music_encoder"});
  if (manifest.text_tower) {
    reader.fail(section, table, "a package has [text_tower] or [musiccoca], not both (both turn text into style tokens)");
  }
  manifest.musiccoca = MusicCocaManifest{reader.file_name(table, section, "text_encoder"),
                                         reader.file_name(table, section, "quantizer"),
                                         reader.file_name(table, section, "spm"), "", ""};
  const bool preprocessor = table.contains("audio_preprocessor"), encoder = table.contains("music_encoder");
  if (preprocessor != encoder) {
    reader.fail(section + "." + (preprocessor ? "music_encoder" : "audio_preprocessor"), table,
                "missing: the audio path needs audio_preprocessor and music_encoder");
  }
  if (preprocessor) {
    manifest.musiccoca->audio_preprocessor = reader.file_name(table, section, "audio_preprocessor");
    manifest.musiccoca->music_encoder = reader.file_name(table, section, "music_encoder");
  }
}

void check_sections(const ManifestReader& reader, const toml::table& root) {
  static constexpr std::string_view kSections[] = {"package", "audio", "provenance", "architecture", "tensors",
                                                   "text_tower", "musiccoca"};
  for (const auto& [key, value] : root) {
    if (std::find(std::begin(kSections), std::end(kSections), key.str()) == std::end(kSections)) {
      reader.fail(std::string(key.str()), value, "unknown section");
    }
  }
}

toml::table parse_manifest(const std::string& file) {
  try {
    return toml::parse_file(file);
  } catch (const toml::parse_error& error) {
    const auto& at = error.source().begin;
    throw ModelFileError(file + ":" + std::to_string(at.line) + ": " + std::string(error.description()));
  }
}

std::string manifest_path(const fs::path& dir) { return (dir / "model.toml").string(); }

// ---- Checking tensors against the runtime's list ------------------------------------------

// One problem per mismatch, in the order check_tensors promises.
std::vector<std::string> tensor_mismatches(const ModelPackage& package, const std::vector<TensorSpec>& expected) {
  const std::string dir = package.dir().string();
  std::set<std::string_view> wanted;
  for (const TensorSpec& spec : expected) {
    if (!wanted.insert(spec.name).second) throw std::invalid_argument("check_tensors: '" + spec.name + "' expected twice");
  }
  std::vector<std::string> problems;
  for (const TensorSpec& spec : expected) {
    if (!package.contains(spec.name)) {
      problems.push_back(dir + ": tensor '" + spec.name + "': missing (expected " + format_shape(spec.shape) + ")");
    }
  }
  for (const std::string& name : package.names()) {
    if (wanted.count(name) == 0) {
      problems.push_back(package.file_of(name).path() + ": tensor '" + name + "': not expected by this model (extra tensor)");
    }
  }
  for (const TensorSpec& spec : expected) {
    if (!package.contains(spec.name)) continue;
    const TensorInfo& info = package.info(spec.name);
    const std::string where = package.file_of(spec.name).path() + ": tensor '" + spec.name + "': ";
    if (info.shape != spec.shape) {
      problems.push_back(where + "expected " + format_shape(spec.shape) + ", file has " + format_shape(info.shape));
    } else if (info.dtype != kernels::DType::f32 && info.dtype != kernels::DType::bf16) {
      problems.push_back(where + "dtype not F32 or BF16");  // the reader refuses others; kept for new DTypes
    }
  }
  return problems;
}

}  // namespace

Manifest load_manifest(const fs::path& dir) {
  const std::string file = manifest_path(dir);
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    if (!fs::is_directory(dir, error)) throw ModelFileError(dir.string() + ": not a model package (not a directory)");
    throw ModelFileError(dir.string() + ": not a model package (no model.toml)");
  }
  const toml::table root = parse_manifest(file);
  const ManifestReader reader{file};
  check_sections(reader, root);
  Manifest manifest;
  read_package(reader, root, manifest);
  read_audio(reader, root, manifest);
  read_provenance(reader, root, manifest);
  read_architecture(reader, root, manifest);
  read_tensors(reader, root, manifest);
  read_text_tower(reader, root, manifest);
  read_musiccoca(reader, root, manifest);
  return manifest;
}

ModelPackage ModelPackage::open(const fs::path& dir) {
  ModelPackage package;
  package.dir_ = dir;
  package.manifest_ = load_manifest(dir);
  for (const std::string& weights : package.manifest_.weights) {
    package.files_.push_back(SafetensorsFile::open(dir / weights));
    const std::size_t index = package.files_.size() - 1;
    for (const std::string& name : package.files_.back().names()) {
      const auto [at, inserted] = package.owner_.emplace(name, index);
      if (!inserted) {
        throw ModelFileError(dir.string() + ": tensor '" + name + "': in both " + package.manifest_.weights[at->second] +
                             " and " + weights);
      }
    }
  }
  return package;
}

namespace {

// FNV-1a, 64 bits: a fingerprint, not a defence against tampering.
class Fnv64 {
 public:
  void add(std::span<const std::byte> bytes) {
    for (const std::byte b : bytes) hash_ = (hash_ ^ static_cast<std::uint64_t>(b)) * 0x100000001B3ull;
  }
  void add(std::string_view text) { add(std::as_bytes(std::span(text.data(), text.size()))); }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xCBF29CE484222325ull;
};

}  // namespace

std::string ModelPackage::fingerprint() const {
  constexpr std::size_t kStride = 1 << 20;
  constexpr std::size_t kSample = 4096;
  Fnv64 hash;
  std::ifstream manifest(dir_ / "model.toml", std::ios::binary);
  std::stringstream text;
  text << manifest.rdbuf();
  hash.add(text.str());
  for (const auto& [name, index] : owner_) {
    const std::span<const std::byte> bytes = files_[index].bytes(name);
    hash.add(name);
    hash.add(std::to_string(bytes.size()));
    for (std::size_t at = 0; at < bytes.size(); at += kStride) hash.add(bytes.subspan(at, std::min(kSample, bytes.size() - at)));
    if (bytes.size() > kSample) hash.add(bytes.last(kSample));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash.value()));
  return manifest_.name + " fnv1a64:" + hex;
}

std::vector<std::string> ModelPackage::names() const {
  std::vector<std::string> names;
  names.reserve(owner_.size());
  for (const auto& entry : owner_) names.push_back(entry.first);
  return names;
}

bool ModelPackage::contains(std::string_view name) const { return owner_.find(name) != owner_.end(); }

const SafetensorsFile& ModelPackage::file_of(std::string_view name) const {
  const auto found = owner_.find(name);
  if (found == owner_.end()) throw ModelFileError(dir_.string() + ": tensor '" + std::string(name) + "': not in this package");
  return files_[found->second];
}

const TensorInfo& ModelPackage::info(std::string_view name) const { return file_of(name).info(name); }

kernels::WeightView ModelPackage::view(std::string_view name) const { return file_of(name).view(name); }

void ModelPackage::check_tensors(const std::vector<TensorSpec>& expected) const {
  const std::vector<std::string> problems = tensor_mismatches(*this, expected);
  if (problems.empty()) return;
  std::string message = problems.front();
  if (problems.size() == 2) message += " (and 1 more mismatch)";
  if (problems.size() > 2) message += " (and " + std::to_string(problems.size() - 1) + " more mismatches)";
  throw ModelFileError(message);
}

}  // namespace continuo::model
