#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace continuo {

enum class LogLevel { debug, info, warn, error };

std::optional<LogLevel> parse_log_level(std::string_view name);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

// Writes one line "<UTC time> <level> <message>" to stderr. Never call it from the
// audio thread: it locks and writes. The audio thread reports through counters instead.
void log_line(LogLevel level, std::string_view message);

template <typename... Parts>
void log(LogLevel level, const Parts&... parts) {
  if (!log_enabled(level)) return;
  std::ostringstream text;
  (text << ... << parts);
  log_line(level, text.str());
}

template <typename... Parts> void log_debug(const Parts&... parts) { log(LogLevel::debug, parts...); }
template <typename... Parts> void log_info(const Parts&... parts) { log(LogLevel::info, parts...); }
template <typename... Parts> void log_warn(const Parts&... parts) { log(LogLevel::warn, parts...); }
template <typename... Parts> void log_error(const Parts&... parts) { log(LogLevel::error, parts...); }

}  // namespace continuo
