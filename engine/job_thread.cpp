#include "engine/job_thread.hpp"

#include <utility>

namespace continuo {

std::string JobThread::start(std::function<std::string()> work, Done done, std::string busy) {
  const std::lock_guard lock(mutex_);
  if (closed_) return "shutting down";
  if (!busy_.empty()) return busy_;
  busy_ = std::move(busy);
  std::thread finished = std::move(thread_);  // done with its job: it cleared busy_
  if (finished.joinable()) finished.join();
  thread_ = std::thread([this, work = std::move(work), done = std::move(done)] {
    const std::string why = work();
    {
      const std::lock_guard lock(mutex_);
      busy_.clear();
    }
    done(why);
  });
  return {};
}

void JobThread::close() {
  std::thread thread;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

}  // namespace continuo
