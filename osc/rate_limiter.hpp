#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace continuo::osc {

// Per-sender token buckets for OSC messages (osc.rate_limit, osc.rate_burst). A sender is
// an IP address, not an address and port: a client picks its ports freely, so a limit per
// port would be none. Each sender may send rate messages a second on average and burst at
// once; a message over that is refused. Holds at most max_senders buckets: when a new
// sender arrives with the table full, a bucket that has refilled (as good as new) goes,
// or else the one idle longest. The OSC thread's alone: no locking.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate 0: no limit.
  RateLimiter(double rate_per_second, double burst, std::size_t max_senders = 256);

  bool allow(const sockaddr_storage& sender, Clock::time_point now);
  std::size_t senders() const { return buckets_.size(); }

 private:
  struct Key {
    int family = 0;
    std::array<std::uint8_t, 16> address{};
    bool operator==(const Key&) const = default;
  };
  struct Bucket {
    Key sender;
    double tokens;
    Clock::time_point refilled;
  };

  static Key key_of(const sockaddr_storage& sender);
  void refill(Bucket& bucket, Clock::time_point now) const;
  Bucket& bucket_for(const Key& sender, Clock::time_point now);

  double rate_;
  double burst_;
  std::size_t max_senders_;
  std::vector<Bucket> buckets_;
};

}  // namespace continuo::osc
