#include "engine/model_registry.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace continuo {
namespace {

std::filesystem::path executable_dir() {
  std::error_code ignored;
  return std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path();
}

}  // namespace

bool is_package_name(std::string_view name) {
  return !name.empty() && name.front() != '.' && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
}

std::vector<std::filesystem::path> model_dirs(const std::string& dir) {
  if (!dir.empty()) return {dir};
  const std::filesystem::path exe = executable_dir();
  return {exe / ".." / "share" / "continuo" / "models", exe / ".." / "models", "models"};
}

ModelOptions model_options(const ModelConfig& settings) {
  return {settings.prefill_frames, model_dirs(settings.dir), settings.backend};
}

std::unique_ptr<Model> ModelRegistry::load_named(std::string_view name, const ModelOptions& options) const {
  std::string searched;
  for (const std::filesystem::path& dir : options.package_dirs) {
    const std::filesystem::path candidate = dir / name;
    std::error_code ignored;
    if (std::filesystem::is_regular_file(candidate / "model.toml", ignored)) {
      return kinds_.find("package")->second.loader(candidate.lexically_normal().string(), options);
    }
    searched += "\n  " + candidate.lexically_normal().string();
  }
  throw ModelError("no model package named '" + std::string(name) + "'; looked in:" + searched +
                   "\nset model.dir, or give model.spec as a directory or kind:argument");
}

std::unique_ptr<Model> ModelRegistry::load_package(std::string_view name, const ModelOptions& options) const {
  if (kinds_.count("package") == 0) throw ModelError("no model packages in this build");
  if (!is_package_name(name)) throw ModelError("'" + std::string(name) + "' is not a package name");
  return load_named(name, options);
}

void ModelRegistry::add(std::string kind, std::string description, Loader loader) {
  kinds_.insert_or_assign(std::move(kind), Entry{std::move(description), std::move(loader)});
}

std::unique_ptr<Model> ModelRegistry::load(std::string_view spec, const ModelOptions& options) const {
  // A directory is a model package, whatever characters its path holds.
  std::error_code ignored;
  if (kinds_.count("package") != 0 && std::filesystem::is_directory(std::filesystem::path(spec), ignored)) {
    return kinds_.find("package")->second.loader(spec, options);
  }
  if (kinds_.count("package") != 0 && is_package_name(spec)) return load_named(spec, options);
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
