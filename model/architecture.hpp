#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "model/package.hpp"

namespace continuo::model {

// Reads a package's [architecture] hyper-parameters for one part of the runtime. Every
// problem is a ModelFileError "<dir>/model.toml: architecture.<key>: <problem>".
class ArchitectureReader {
 public:
  // `part` names who needs the keys, for the message about a missing one.
  ArchitectureReader(const ModelPackage& package, std::string part);
  ArchitectureReader(const Manifest& manifest, const std::filesystem::path& dir, std::string part);

  // An integer key in [min, 2^24]: every size and count in these models fits.
  int get(std::string_view key, int min = 1) const;
  std::size_t count(std::string_view key, int min = 1) const { return static_cast<std::size_t>(get(key, min)); }
  // A number key; integers are accepted.
  double number(std::string_view key) const;
  // An optional switch, 0 or 1: absent is off.
  bool flag(std::string_view key) const;

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  void require(bool ok, std::string_view key, const std::string& problem) const {
    if (!ok) fail(key, problem);
  }

 private:
  const ArchValue& find(std::string_view key) const;

  const Manifest& manifest_;
  std::string where_;
  std::string part_;
};

}  // namespace continuo::model
