#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace continuo {

// Writes text to path atomically: a temporary file beside it, flushed to disk, then renamed
// over it, so a crash leaves the old contents or the new, never half of them. Throws
// std::runtime_error naming the file and the system's reason when it cannot.
void write_file_atomically(const std::string& path, const std::string& text);

// Several files written as one: each to <path>.next (flushed), then the list of them to
// `commit` (atomically; names relative to its directory), then each renamed over its path,
// then the list removed. Whatever a
// crash interrupts, finish_files_together(commit, ...) before reading leaves all the old
// files or all the new ones. Throws std::runtime_error as write_file_atomically.
using FileText = std::pair<std::string, std::string>;  // path, text
void write_files_together(const std::string& commit, const std::vector<FileText>& files);

// Completes a group write that `commit` lists (some files may be renamed already), or, with no
// list, drops the <path>.next of each of `paths` that an interrupted write left. Returns what
// it did for the log ("" when nothing was pending). Throws std::runtime_error when a rename
// or removal fails.
std::string finish_files_together(const std::string& commit, const std::vector<std::string>& paths);

}  // namespace continuo
