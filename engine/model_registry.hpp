#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/model.hpp"

namespace continuo {

struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Settings every loader receives; a model ignores what it has no use for.
struct ModelOptions {
  int prefill_frames = 0;
};

// Maps a model spec "kind:argument" (for example "double:counter") to the code that
// loads it. Loading errors are thrown as ModelError with a message for the user.
class ModelRegistry {
 public:
  using Loader = std::function<std::unique_ptr<Model>(std::string_view argument, const ModelOptions& options)>;

  void add(std::string kind, std::string description, Loader loader);
  std::unique_ptr<Model> load(std::string_view spec, const ModelOptions& options = {}) const;
  std::string describe() const;  // one line per kind, for --help

 private:
  struct Entry {
    std::string description;
    Loader loader;
  };
  std::map<std::string, Entry, std::less<>> kinds_;
};

}  // namespace continuo
