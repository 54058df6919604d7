#include "engine/control_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace continuo {
namespace {

TEST(ControlState, StartsWithTheInitialSnapshot) {
  ControlSnapshot initial;
  initial.top_k = 7;
  initial.style_tokens[3] = 42;
  const ControlState state(initial);
  const ControlSnapshot seen = state.snapshot();
  EXPECT_EQ(seen.top_k, 7);
  EXPECT_EQ(seen.style_tokens[3], 42);
  EXPECT_EQ(seen.version, 0u);
}

TEST(ControlState, SnapshotIsACopyUnaffectedByLaterUpdates) {
  ControlState state{ControlSnapshot{}};
  const ControlSnapshot before = state.snapshot();
  state.update([](ControlSnapshot& c) {
    c.temperature = 0.5f;
    c.notes[60] = NoteState::onset;
    c.drums = 1;
  });
  EXPECT_EQ(before.temperature, ControlSnapshot{}.temperature);
  EXPECT_EQ(before.notes[60], ControlSnapshot{}.notes[60]);
  EXPECT_EQ(before.drums, -1);
  const ControlSnapshot after = state.snapshot();
  EXPECT_EQ(after.temperature, 0.5f);
  EXPECT_EQ(after.notes[60], NoteState::onset);
  EXPECT_EQ(after.drums, 1);
}

TEST(ControlState, VersionIncrementsPerUpdate) {
  ControlState state{ControlSnapshot{}};
  for (std::uint64_t expected = 1; expected <= 5; ++expected) {
    state.update([](ControlSnapshot& c) { c.seed += 1; });
    EXPECT_EQ(state.snapshot().version, expected);
  }
  state.update([](ControlSnapshot&) {});
  EXPECT_EQ(state.snapshot().version, 6u);
}

bool all_style_tokens_equal(const ControlSnapshot& c) {
  return std::all_of(c.style_tokens.begin(), c.style_tokens.end(), [&](int t) { return t == c.style_tokens[0]; });
}

// Writers set all twelve tokens to one value, one token at a time; a reader that ever
// sees two different values has seen half of an update.
TEST(ControlState, ConcurrentUpdatesNeverShowATornSnapshot) {
  constexpr int kWriters = 4;
  constexpr int kUpdatesPerWriter = 20000;
  ControlState state{ControlSnapshot{}};
  std::atomic<int> writers_left{kWriters};

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&state, &writers_left, w] {
      for (int i = 0; i < kUpdatesPerWriter; ++i) {
        state.update([value = w * kUpdatesPerWriter + i](ControlSnapshot& c) {
          for (int& token : c.style_tokens) token = value;
        });
      }
      writers_left.fetch_sub(1);
    });
  }

  int torn = 0;
  std::uint64_t last_version = 0;
  bool version_went_back = false;
  while (writers_left.load() > 0) {
    const ControlSnapshot seen = state.snapshot();
    if (!all_style_tokens_equal(seen)) ++torn;
    version_went_back = version_went_back || seen.version < last_version;
    last_version = seen.version;
  }
  for (std::thread& t : writers) t.join();

  EXPECT_EQ(torn, 0);
  EXPECT_FALSE(version_went_back);
  EXPECT_EQ(state.snapshot().version, static_cast<std::uint64_t>(kWriters * kUpdatesPerWriter));
}

}  // namespace
}  // namespace continuo
