#pragma once
// A file the file-reading fuzz targets rewrite with each input: the parsers under test
// take paths, as they do in the engine.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace continuo::fuzz {

class ScratchFile {
 public:
  ScratchFile(const std::string& dir_prefix, const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / (dir_prefix + "-" + std::to_string(getpid()))),
        path_(dir_ / name) {
    std::filesystem::create_directories(dir_);
  }
  ~ScratchFile() { std::filesystem::remove_all(dir_); }

  void write(const std::uint8_t* data, std::size_t size) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::string path() const { return path_.string(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace continuo::fuzz
