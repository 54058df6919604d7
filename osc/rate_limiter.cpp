#include "osc/rate_limiter.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace continuo::osc {

RateLimiter::RateLimiter(double rate_per_second, double burst, std::size_t max_senders)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), max_senders_(std::max<std::size_t>(max_senders, 1)) {}

bool RateLimiter::allow(const sockaddr_storage& sender, Clock::time_point now) {
  if (rate_ <= 0.0) return true;
  Bucket& bucket = bucket_for(key_of(sender), now);
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

RateLimiter::Key RateLimiter::key_of(const sockaddr_storage& sender) {
  Key key;
  key.family = sender.ss_family;
  if (sender.ss_family == AF_INET) {
    std::memcpy(key.address.data(), &reinterpret_cast<const sockaddr_in&>(sender).sin_addr, 4);
  } else if (sender.ss_family == AF_INET6) {
    std::memcpy(key.address.data(), &reinterpret_cast<const sockaddr_in6&>(sender).sin6_addr, 16);
  }
  return key;
}

void RateLimiter::refill(Bucket& bucket, Clock::time_point now) const {
  const double seconds = std::chrono::duration<double>(now - bucket.refilled).count();
  if (seconds <= 0.0) return;  // a clock that did not move, or the caller's older time
  bucket.tokens = std::min(burst_, bucket.tokens + seconds * rate_);
  bucket.refilled = now;
}

RateLimiter::Bucket& RateLimiter::bucket_for(const Key& sender, Clock::time_point now) {
  const auto found = std::find_if(buckets_.begin(), buckets_.end(), [&](const Bucket& b) { return b.sender == sender; });
  if (found != buckets_.end()) {
    refill(*found, now);
    return *found;
  }
  if (buckets_.size() >= max_senders_) {
    // refilled is when a bucket was last used: its sender's last message.
    const auto refilled_by_now = [&](const Bucket& b) {
      return b.tokens + std::chrono::duration<double>(now - b.refilled).count() * rate_ >= burst_;
    };
    auto gone = std::find_if(buckets_.begin(), buckets_.end(), refilled_by_now);
    if (gone == buckets_.end()) {
      gone = std::min_element(buckets_.begin(), buckets_.end(),
                              [](const Bucket& a, const Bucket& b) { return a.refilled < b.refilled; });
    }
    buckets_.erase(gone);
  }
  return buckets_.emplace_back(Bucket{sender, burst_, now});
}

}  // namespace continuo::osc
