#include "engine/signals.hpp"

#include <csignal>
#include <ctime>

namespace continuo {
namespace {

sigset_t watched_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

SignalWatch::SignalWatch() {
  const sigset_t set = watched_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A JACK server that dies under us must not take us with it through a broken socket.
  std::signal(SIGPIPE, SIG_IGN);
}

int SignalWatch::wait(std::chrono::milliseconds timeout) {
  const sigset_t set = watched_signals();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec span{static_cast<time_t>(seconds.count()),
                      static_cast<long>(std::chrono::nanoseconds(timeout - seconds).count())};
  const int signal = sigtimedwait(&set, nullptr, &span);
  return signal > 0 ? signal : 0;
}

}  // namespace continuo
