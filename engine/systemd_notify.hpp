#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace continuo {

// systemd's service notification protocol (sd_notify(3)) without libsystemd: datagrams
// "READY=1", "WATCHDOG=1", "STATUS=...", "STOPPING=1" to $NOTIFY_SOCKET. Outside systemd
// (no NOTIFY_SOCKET) every call does nothing. Main thread only.
class SystemdNotifier {
 public:
  SystemdNotifier();  // reads NOTIFY_SOCKET and WATCHDOG_USEC
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return fd_ >= 0; }
  // Half of WatchdogSec, as sd_watchdog_enabled(3) advises; zero when no watchdog is set.
  std::chrono::milliseconds watchdog_interval() const { return watchdog_interval_; }

  void send(const std::string& state) const;  // e.g. "READY=1\nSTATUS=playing"

 private:
  int fd_ = -1;
  std::string socket_path_;
  std::chrono::milliseconds watchdog_interval_{0};
};

// Decides when the watchdog may be fed: only when both the audio thread (frames played)
// and the generator (frames generated) have moved since the last ping, so a hung callback
// or a stuck model gets the service restarted rather than kept alive by the main loop.
class WatchdogGate {
 public:
  explicit WatchdogGate(std::chrono::milliseconds interval) : interval_(interval) {}

  // True when a ping is due now and both counters advanced since the last one.
  bool ping_due(std::chrono::steady_clock::time_point now, std::uint64_t frames_played, std::uint64_t frames_generated);

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_ping_{};
  std::uint64_t played_at_ping_ = 0;
  std::uint64_t generated_at_ping_ = 0;
};

}  // namespace continuo
