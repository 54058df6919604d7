#pragma once

#include <chrono>

namespace continuo {

// Takes SIGINT, SIGTERM, SIGUSR1 and SIGHUP away from asynchronous handlers: they are blocked in
// this thread and every thread started after it, and the main loop collects them with
// wait(). Construct it before any other thread starts (JACK's included).
class SignalWatch {
 public:
  SignalWatch();
  // The signal that arrived within timeout, or 0.
  int wait(std::chrono::milliseconds timeout);
};

}  // namespace continuo
