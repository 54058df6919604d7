#pragma once

// Real-time contract of continuo: a function marked CONTINUO_REALTIME runs on the JACK
// process thread and must not allocate, lock, log, wait, make system calls or touch the
// GPU. Under clang the mark is [[clang::nonblocking]], which -Wfunction-effects checks at
// compile time; at run time the continuo-rtsan build checks the same contract with
// clang's RealtimeSanitizer runtime (see RealtimeScope).
#if defined(__clang__) && __has_cpp_attribute(clang::nonblocking)
#define CONTINUO_REALTIME [[clang::nonblocking]]
#else
#define CONTINUO_REALTIME
#endif

namespace continuo {

// Tells the RealtimeSanitizer runtime that the current thread is inside the process
// callback. The runtime is linked only into continuo-rtsan; elsewhere the weak hooks are
// null and the scope costs one branch.
class RealtimeScope {
 public:
  RealtimeScope();
  ~RealtimeScope();
  RealtimeScope(const RealtimeScope&) = delete;
  RealtimeScope& operator=(const RealtimeScope&) = delete;
};

}  // namespace continuo
