#include "engine/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

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

namespace {

std::string next_of(const std::string& path) { return path + ".next"; }

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void rename_or_throw(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) throw std::runtime_error(to + ": cannot replace: " + std::strerror(errno));
}

void remove_or_throw(const std::string& path) {
  if (std::remove(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(path + ": cannot remove: " + std::strerror(errno));
}

// A commit list names its files relative to its own directory, so a directory copied or
// renamed with a save pending (an NSM session duplicated, say) still finishes it.
std::string listed_name(const std::string& commit, const std::string& path) {
  return std::filesystem::path(path).lexically_relative(std::filesystem::path(commit).parent_path()).string();
}

// The paths a commit list names, one per line.
std::vector<std::string> read_commit_list(const std::string& commit) {
  std::ifstream in(commit);
  if (!in) throw std::runtime_error(commit + ": cannot read: " + std::strerror(errno));
  std::vector<std::string> paths;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) paths.push_back((std::filesystem::path(commit).parent_path() / line).string());
  return paths;
}

}  // namespace

void write_files_together(const std::string& commit, const std::vector<FileText>& files) {
  std::string list;
  for (const auto& [path, text] : files) {
    write_file_atomically(next_of(path), text);
    list += listed_name(commit, path) + "\n";
  }
  write_file_atomically(commit, list);  // from here on the new files are the saved ones
  finish_files_together(commit, {});
}

std::string finish_files_together(const std::string& commit, const std::vector<std::string>& paths) {
  std::string done;
  if (exists(commit)) {
    for (const std::string& path : read_commit_list(commit))
      if (exists(next_of(path))) rename_or_throw(next_of(path), path);
    remove_or_throw(commit);
    return commit + " listed a save that was not finished: finished it";
  }
  for (const std::string& path : paths) {
    if (!exists(next_of(path))) continue;
    remove_or_throw(next_of(path));
    done += (done.empty() ? "" : ", ") + next_of(path);
  }
  return done.empty() ? done : "dropped " + done + ", left by a save that was interrupted before it was complete";
}

}  // namespace continuo
