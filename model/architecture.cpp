#include "model/architecture.hpp"

#include <variant>

namespace continuo::model {

ArchitectureReader::ArchitectureReader(const ModelPackage& package, std::string part)
    : ArchitectureReader(package.manifest(), package.dir(), std::move(part)) {}

ArchitectureReader::ArchitectureReader(const Manifest& manifest, const std::filesystem::path& dir, std::string part)
    : manifest_(manifest), where_((dir / "model.toml").string() + ": architecture."), part_(std::move(part)) {}

int ArchitectureReader::get(std::string_view key, int min) const {
  const auto* value = std::get_if<std::int64_t>(&find(key));
  if (value == nullptr) fail(key, "must be an integer");
  if (*value < min || *value > (std::int64_t{1} << 24)) {
    fail(key, "must be between " + std::to_string(min) + " and 2^24, got " + std::to_string(*value));
  }
  return static_cast<int>(*value);
}

double ArchitectureReader::number(std::string_view key) const {
  const ArchValue& value = find(key);
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  return std::get<double>(value);
}

bool ArchitectureReader::flag(std::string_view key) const {
  if (!manifest_.architecture.contains(std::string(key))) return false;
  const auto* value = std::get_if<std::int64_t>(&find(key));
  if (value == nullptr || (*value != 0 && *value != 1)) fail(key, "must be 0 or 1");
  return *value == 1;
}

void ArchitectureReader::fail(std::string_view key, const std::string& problem) const {
  throw ModelFileError(where_ + std::string(key) + ": " + problem);
}

const ArchValue& ArchitectureReader::find(std::string_view key) const {
  const auto it = manifest_.architecture.find(std::string(key));
  if (it == manifest_.architecture.end()) {
    fail(key, "missing (" + part_ + " needs it; re-convert the model with tools/convert_mrt2.py)");
  }
  return it->second;
}

}  // namespace continuo::model
