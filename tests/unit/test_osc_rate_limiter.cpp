#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>

#include "osc/rate_limiter.hpp"

namespace continuo::osc {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

sockaddr_storage ipv4(const char* address, int port) {
  sockaddr_storage storage{};
  auto& in = reinterpret_cast<sockaddr_in&>(storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, address, &in.sin_addr);
  return storage;
}

sockaddr_storage ipv6(const char* address) {
  sockaddr_storage storage{};
  auto& in = reinterpret_cast<sockaddr_in6&>(storage);
  in.sin6_family = AF_INET6;
  inet_pton(AF_INET6, address, &in.sin6_addr);
  return storage;
}

int allowed(RateLimiter& limiter, const sockaddr_storage& sender, int messages, Clock::time_point now) {
  int n = 0;
  for (int i = 0; i < messages; ++i) n += limiter.allow(sender, now) ? 1 : 0;
  return n;
}

const Clock::time_point t0{};

TEST(OscRateLimiter, ABurstPassesThenTheRateRefills) {
  RateLimiter limiter(100.0, 10.0);
  const auto sender = ipv4("127.0.0.1", 9001);
  EXPECT_EQ(allowed(limiter, sender, 25, t0), 10) << "a full bucket holds the burst";
  EXPECT_EQ(allowed(limiter, sender, 25, t0 + 50ms), 5) << "50 ms at 100/s refill 5";
  EXPECT_EQ(allowed(limiter, sender, 25, t0 + 10s), 10) << "refilling stops at the burst";
}

TEST(OscRateLimiter, SustainedSendingGetsTheRateAndNoMore) {
  RateLimiter limiter(1000.0, 100.0);
  const auto sender = ipv4("10.0.0.7", 5000);
  int passed = 0;
  for (int ms = 0; ms < 2000; ++ms) passed += allowed(limiter, sender, 5, t0 + std::chrono::milliseconds(ms));
  // 5,000 a second offered for 2 s: the burst, then 1 a millisecond.
  EXPECT_EQ(passed, 100 + 1999);
}

TEST(OscRateLimiter, ASenderIsItsAddressWhateverItsPort) {
  RateLimiter limiter(10.0, 3.0);
  EXPECT_EQ(allowed(limiter, ipv4("192.168.1.2", 1000), 2, t0), 2);
  EXPECT_EQ(allowed(limiter, ipv4("192.168.1.2", 1001), 2, t0), 1) << "another port, the same bucket";
  EXPECT_EQ(allowed(limiter, ipv4("192.168.1.3", 1000), 3, t0), 3) << "another address, its own bucket";
  EXPECT_EQ(allowed(limiter, ipv6("::1"), 3, t0), 3);
  EXPECT_EQ(allowed(limiter, ipv6("::1"), 1, t0), 0);
  EXPECT_EQ(limiter.senders(), 3u);
}

TEST(OscRateLimiter, ZeroRateIsNoLimit) {
  RateLimiter limiter(0.0, 1.0);
  EXPECT_EQ(allowed(limiter, ipv4("127.0.0.1", 1), 100000, t0), 100000);
  EXPECT_EQ(limiter.senders(), 0u);
}

TEST(OscRateLimiter, AClockThatGoesBackRefillsNothing) {
  RateLimiter limiter(100.0, 2.0);
  const auto sender = ipv4("127.0.0.1", 1);
  EXPECT_EQ(allowed(limiter, sender, 2, t0 + 1s), 2);
  EXPECT_EQ(allowed(limiter, sender, 2, t0), 0);
}

TEST(OscRateLimiter, AFullTableDropsARefilledBucketFirstThenTheIdlest) {
  RateLimiter limiter(1.0, 2.0, 2);
  const auto a = ipv4("10.0.0.1", 1);
  const auto b = ipv4("10.0.0.2", 1);
  const auto c = ipv4("10.0.0.3", 1);
  EXPECT_EQ(allowed(limiter, a, 2, t0), 2);        // a: empty, last seen at 0 s
  EXPECT_EQ(allowed(limiter, b, 1, t0 + 1s), 1);   // b: 1 token left, last seen at 1 s
  // At 1.5 s a has 0.5 tokens, b 1.5: neither refilled, so a (idle longest) goes.
  EXPECT_EQ(allowed(limiter, c, 2, t0 + 1500ms), 2);
  EXPECT_EQ(limiter.senders(), 2u);
  EXPECT_EQ(allowed(limiter, b, 2, t0 + 1500ms), 1) << "b kept its bucket: 1.5 tokens";
  // At 10 s both b and c have refilled; one of them makes room and a starts full.
  EXPECT_EQ(allowed(limiter, a, 3, t0 + 10s), 2);
  EXPECT_EQ(limiter.senders(), 2u);
}

}  // namespace
}  // namespace continuo::osc
