#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace continuo {

// One job at a time on a thread of its own, for commands whose work takes long (encoding
// audio) while the engine plays on: the control thread starts it and is answered later.
class JobThread {
 public:
  using Done = std::function<void(const std::string& why)>;

  JobThread() = default;
  ~JobThread() { close(); }
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // "" when work has started; once it returns ("" or why it failed), the thread is free
  // again and done(that) runs on it. Else why not: `busy` (the caller's own words, "busy:
  // ...") while a job runs, "shutting down" after close().
  std::string start(std::function<std::string()> work, Done done, std::string busy);

  // Refuses jobs from now on and waits for one under way (its done runs).
  void close();

 private:
  std::mutex mutex_;  // guards everything below
  std::string busy_;  // the refusal while a job runs; empty when idle
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace continuo
