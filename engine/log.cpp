#include "engine/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace continuo {
namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
std::mutex g_write_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info ";
    case LogLevel::warn: return "warn ";
    case LogLevel::error: return "error";
  }
  return "?";
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warn") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return std::nullopt;
}

void set_log_level(LogLevel level) { g_level.store(level); }

bool log_enabled(LogLevel level) { return level >= g_level.load(); }

void log_line(LogLevel level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &utc);
  std::lock_guard lock(g_write_mutex);
  std::fprintf(stderr, "%s.%03d %s %.*s\n", stamp, static_cast<int>(millis), level_name(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace continuo
