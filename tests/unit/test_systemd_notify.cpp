#include "engine/systemd_notify.hpp"

#include <gtest/gtest.h>

namespace continuo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(WatchdogGate, PingsEveryIntervalWhileBothThreadsProgress) {
  WatchdogGate gate(100ms);
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(gate.ping_due(t0, 256, 1));
  EXPECT_FALSE(gate.ping_due(t0 + 50ms, 512, 2)) << "not before the interval";
  EXPECT_TRUE(gate.ping_due(t0 + 100ms, 768, 3));
}

TEST(WatchdogGate, AStalledAudioThreadOrGeneratorStopsThePings) {
  WatchdogGate gate(100ms);
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(gate.ping_due(t0, 256, 1));
  EXPECT_FALSE(gate.ping_due(t0 + 200ms, 256, 5)) << "the process callback has not run";
  EXPECT_FALSE(gate.ping_due(t0 + 300ms, 512, 1)) << "the generator has not stepped";
  EXPECT_TRUE(gate.ping_due(t0 + 400ms, 512, 5)) << "both moved again";
}

TEST(WatchdogGate, NoWatchdogNoPings) {
  WatchdogGate gate(0ms);
  EXPECT_FALSE(gate.ping_due(Clock::now(), 1, 1));
}

}  // namespace
}  // namespace continuo
