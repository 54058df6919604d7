#pragma once

#include <stdexcept>
#include <string>

namespace continuo {

// Writes text to path atomically: a temporary file beside it, flushed to disk, then renamed
// over it, so a crash leaves the old contents or the new, never half of them. Throws
// std::runtime_error naming the file and the system's reason when it cannot.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace continuo
