#include "engine/model_registry.hpp"

#include <filesystem>

namespace continuo {

void ModelRegistry::add(std::string kind, std::string description, Loader loader) {
  kinds_.insert_or_assign(std::move(kind), Entry{std::move(description), std::move(loader)});
}

std::unique_ptr<Model> ModelRegistry::load(std::string_view spec, const ModelOptions& options) const {
  // A directory is a model package, whatever characters its path holds.
  std::error_code ignored;
  if (kinds_.count("package") != 0 && std::filesystem::is_directory(std::filesystem::path(spec), ignored)) {
    return kinds_.find("package")->second.loader(spec, options);
  }
  const auto colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view argument = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  const auto entry = kinds_.find(kind);
  if (entry == kinds_.end()) {
    throw ModelError("unknown model '" + std::string(spec) + "'; known models:\n" + describe());
  }
  return entry->second.loader(argument, options);
}

std::string ModelRegistry::describe() const {
  std::string text;
  for (const auto& [kind, entry] : kinds_) text += "  " + kind + ":...  " + entry.description + "\n";
  return text;
}

}  // namespace continuo
