#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kernels/tensor.hpp"
#include "model/safetensors.hpp"

namespace continuo::model {

// A tensor the runtime needs: its canonical name and shape.
struct TensorSpec {
  std::string name;
  Shape shape;
};

// A hyper-parameter from [architecture]: integers stay integers.
using ArchValue = std::variant<std::int64_t, double>;

// [text_tower] (optional): the files and sizes of the model's text tower, which turns a text
// prompt into style tokens (model/text_tower.hpp, docs/text-tower.md). Its weights are not
// among package.weights: the tower opens its own file, so the generator never sees them.
struct TextTowerManifest {
  std::string weights;  // safetensors file name in the package directory
  std::string vocab;    // vocabulary file name: one word per line, UTF-8
  std::size_t word_dims = 0;
  std::size_t hidden_dims = 0;
  std::size_t buckets = 0;  // hashed n-gram buckets
  std::size_t ngram_min = 0;
  std::size_t ngram_max = 0;
  std::size_t max_words = 0;  // words of a prompt that count; the rest is ignored
  std::size_t codebook = 0;   // codes per RVQ level
};

// [musiccoca] (optional): MusicCoCa converted from Google's TFLite files by
// tools/musiccoca/convert.py (docs/musiccoca.md): the graphs and the SentencePiece model.
struct MusicCocaManifest {
  std::string text_encoder;  // graph.toml file names in the package directory
  std::string quantizer;
  std::string spm;  // SentencePiece model file name
  // The audio path (audio prompts), both or neither: "" when the package has none.
  std::string audio_preprocessor;
  std::string music_encoder;
};

// model.toml, validated. See docs/model-package.md for every key.
struct Manifest {
  // [package]
  std::string name;
  std::string family;  // "mrt2"
  int format_version = 1;
  std::vector<std::string> weights;  // file names in the package directory
  // [audio]
  int sample_rate = 0;
  int channels = 0;
  double frame_rate = 0.0;
  // [provenance]: shown to the user
  std::string source;
  std::string licence;
  std::string attribution;
  // [architecture]: kept for the runtime, not interpreted here
  std::map<std::string, ArchValue> architecture;
  // [tensors]: optional "name = [dims]" declarations, in name order
  std::vector<TensorSpec> tensors;
  // [text_tower]: absent when the model takes no text prompts
  std::optional<TextTowerManifest> text_tower;
  // [musiccoca]: absent unless converted; a package has it or [text_tower], not both
  std::optional<MusicCocaManifest> musiccoca;
};

// Parses <dir>/model.toml. Errors: ModelFileError "<dir>/model.toml:<line>: <key>: <problem>".
Manifest load_manifest(const std::filesystem::path& dir);

// A model package: a directory with model.toml and the safetensors files it lists, all
// mapped and validated, tensor names merged across files.
class ModelPackage {
 public:
  static ModelPackage open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }

  // "<name> fnv1a64:<hex>": a hash of model.toml and of every tensor (4 KiB in every MiB
  // of it, and its end), so a session journal can tell another or retrained package.
  std::string fingerprint() const;
  std::vector<std::string> names() const;  // every tensor of every file, sorted
  bool contains(std::string_view name) const;
  const TensorInfo& info(std::string_view name) const;  // ModelFileError if absent
  kernels::WeightView view(std::string_view name) const;
  const SafetensorsFile& file_of(std::string_view name) const;

  // Refuses (ModelFileError) unless the package holds exactly `expected`: same names,
  // same shapes, F32 or BF16. Names the first mismatch in a stable order: missing tensors
  // (in expected's order), then extra ones (by name), then wrong shapes (in expected's
  // order), with a count of the rest. `expected` must not repeat a name.
  void check_tensors(const std::vector<TensorSpec>& expected) const;

 private:
  ModelPackage() = default;

  std::filesystem::path dir_;
  Manifest manifest_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, std::size_t, std::less<>> owner_;  // tensor name -> index in files_
};

}  // namespace continuo::model
