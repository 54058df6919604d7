#include "engine/link_peer.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace continuo {
namespace {

// A peer sets the session tempo and refuses tempos out of range. Another peer on this
// machine (a parallel test, a DAW) may set the shared tempo at any time, so after the
// refusals the check is that none of them was applied, not that 133 is still the tempo.
TEST(LinkPeer, SetsTheSessionTempoAndRefusesOutOfRange) {
  LinkPeer link(120.0, 4.0);
  EXPECT_EQ(link.set_tempo(133.0), "");
  const LinkPosition now = link.now();
  EXPECT_DOUBLE_EQ(now.tempo, 133.0);
  EXPECT_GE(now.phase, 0.0);
  EXPECT_LT(now.phase, 4.0);
  EXPECT_EQ(link.set_tempo(19.5), "tempo must be between 20 and 999 bpm, got 19.5");
  EXPECT_EQ(link.set_tempo(1000.0), "tempo must be between 20 and 999 bpm, got 1000");
  EXPECT_NE(link.set_tempo(std::numeric_limits<double>::quiet_NaN()), "");
  const double after = link.now().tempo;
  EXPECT_GE(after, 20.0) << "a refused tempo was applied";
  EXPECT_LE(after, 999.0) << "a refused tempo was applied";
}

}  // namespace
}  // namespace continuo
