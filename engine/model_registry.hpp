#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config.hpp"
#include "engine/model.hpp"

namespace continuo {

struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The backend asked for (model.backend "cuda") cannot run here: no CUDA in this build, no
// device, or a package the device's kernels do not fit. A setting to change: exit code 2.
struct BackendUnavailable : ModelError {
  using ModelError::ModelError;
};

// Settings every loader receives; a model ignores what it has no use for.
struct ModelOptions {
  int prefill_frames = 0;
  std::vector<std::filesystem::path> package_dirs;  // where a bare name is looked for, in order
  ModelBackend backend = ModelBackend::cpu;  // model.backend (its default is automatic)
};

// A bare package name: 1..128 letters, digits, '_', '-' or '.', not starting with '.'
// (so never "..", a path or a kind:argument).
bool is_package_name(std::string_view name);

// Where a bare model name is looked for: dir when set, else <continuo>/../share/continuo/models
// (installed), <continuo>/../models (a build directory in the source tree) and ./models.
std::vector<std::filesystem::path> model_dirs(const std::string& dir);

// The options a [model] section loads its model with.
ModelOptions model_options(const ModelConfig& settings);

// Maps a model spec to the code that loads it: "kind:argument" (for example
// "double:counter"), a package directory, or a bare package name ("default": letters,
// digits, '_', '-', '.', no path) looked up in options.package_dirs — the only form OSC may
// ever name. Loading errors are thrown as ModelError with a message for the user.
class ModelRegistry {
 public:
  using Loader = std::function<std::unique_ptr<Model>(std::string_view argument, const ModelOptions& options)>;

  void add(std::string kind, std::string description, Loader loader);
  std::unique_ptr<Model> load(std::string_view spec, const ModelOptions& options = {}) const;
  // Only a package by bare name (is_package_name) in options.package_dirs: what OSC may load.
  std::unique_ptr<Model> load_package(std::string_view name, const ModelOptions& options) const;
  std::string describe() const;  // one line per kind, for --help

 private:
  std::unique_ptr<Model> load_named(std::string_view name, const ModelOptions& options) const;

  struct Entry {
    std::string description;
    Loader loader;
  };
  std::map<std::string, Entry, std::less<>> kinds_;
};

}  // namespace continuo
