#include "engine/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace continuo {

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(temp.c_str(), "w");
  if (file == nullptr) throw std::runtime_error(temp + ": cannot write: " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size() && std::fflush(file) == 0 &&
                  ::fsync(::fileno(file)) == 0;
  const int error = errno;
  if (std::fclose(file) != 0 || !ok) {
    const std::string why = std::strerror(ok ? errno : error);
    std::remove(temp.c_str());
    throw std::runtime_error(temp + ": cannot write: " + why);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_error = errno;
    std::remove(temp.c_str());
    throw std::runtime_error(path + ": cannot replace: " + std::strerror(rename_error));
  }
}

}  // namespace continuo
