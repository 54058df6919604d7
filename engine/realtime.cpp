#include "engine/realtime.hpp"

extern "C" {
void __rtsan_realtime_enter() __attribute__((weak));
void __rtsan_realtime_exit() __attribute__((weak));
}

namespace continuo {

RealtimeScope::RealtimeScope() {
  if (__rtsan_realtime_enter != nullptr) __rtsan_realtime_enter();
}

RealtimeScope::~RealtimeScope() {
  if (__rtsan_realtime_exit != nullptr) __rtsan_realtime_exit();
}

}  // namespace continuo
