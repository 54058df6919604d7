#include "engine/link_peer.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace continuo {
namespace {

// Alone in its session (or not: another test's peer on this machine would share the
// timeline, which changes nothing checked here), a peer keeps the tempo it was given.
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
  EXPECT_DOUBLE_EQ(link.now().tempo, 133.0) << "a refused tempo changes nothing";
}

}  // namespace
}  // namespace continuo
