#include "engine/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "engine/log.hpp"

namespace continuo {
namespace {

std::chrono::milliseconds watchdog_from_environment() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::chrono::milliseconds(0);
  const long long value = std::atoll(usec);
  return std::chrono::milliseconds(value > 0 ? value / 2000 : 0);
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@') || std::strlen(path) >= sizeof(sockaddr_un::sun_path)) {
    return;
  }
  socket_path_ = path;
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    log_warn("systemd: cannot open a socket for NOTIFY_SOCKET: ", std::strerror(errno));
    return;
  }
  watchdog_interval_ = watchdog_from_environment();
  log_info("systemd: notifying ", socket_path_,
           watchdog_interval_.count() > 0 ? ", watchdog every " + std::to_string(watchdog_interval_.count()) + " ms" : "");
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

void SystemdNotifier::send(const std::string& state) const {
  if (fd_ < 0) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // an abstract socket
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length) < 0) {
    log_warn("systemd: notify '", state.substr(0, state.find('\n')), "' failed: ", std::strerror(errno));
  }
}

bool WatchdogGate::ping_due(std::chrono::steady_clock::time_point now, std::uint64_t frames_played,
                            std::uint64_t frames_generated) {
  if (interval_.count() <= 0 || now - last_ping_ < interval_) return false;
  if (frames_played == played_at_ping_ || frames_generated == generated_at_ping_) return false;
  last_ping_ = now;
  played_at_ping_ = frames_played;
  generated_at_ping_ = frames_generated;
  return true;
}

}  // namespace continuo
