// rtsan_probe: proves the real-time checker of continuo-rtsan can fail. Linked exactly
// like continuo-rtsan (engine objects + clang's RealtimeSanitizer runtime), it enters the
// engine's RealtimeScope, as the process callback does, and then allocates. The runtime
// must print "Real-time violation" and abort; if the allocation goes through, the
// checker is not armed and the probe says so and exits 3.

#include <cstdio>
#include <cstdlib>

#include "engine/realtime.hpp"

namespace {
// Through a volatile pointer so the compiler cannot elide the malloc/free pair.
void* (*volatile allocate)(std::size_t) = std::malloc;
void (*volatile release)(void*) = std::free;
}  // namespace

int main() {
  std::fprintf(stderr, "rtsan_probe: calling malloc inside continuo::RealtimeScope\n");
  std::fflush(stderr);
  void* p = nullptr;
  {
    continuo::RealtimeScope scope;
    p = allocate(64);
  }
  release(p);
  std::fprintf(stderr, "rtsan_probe: malloc inside RealtimeScope was NOT caught: the checker is not active\n");
  return 3;
}
