#pragma once

#include <cstdint>

#include "engine/model_registry.hpp"

namespace continuo::doubles {

// Registers the test-double models under the kind "double":
//   double:counter   L and R encode the running sample index exactly (see counter_sample)
//   double:chords    a soft sine-chord progression, or the held notes of the control state
// Options follow the name, comma-separated: rate=HZ, frame=SAMPLES, delay_ms=MS (a slow
// model: each step sleeps that long), delay_file=PATH (each step also sleeps the number of
// milliseconds the file holds when it steps: a model a test slows down while it runs),
// fail_after=N and fail_for=M (a failing device: steps N..N+M-1, counted from 0 since the
// model was made, throw std::runtime_error; M = 0 or unset: every step from N on).
void register_test_doubles(ModelRegistry& registry);

// The counter double's sample n, exactly representable in float: the left channel holds
// the low 16 bits of n, the right channel the next 16 bits, each mapped to [-1, 1).
inline float counter_sample(std::uint64_t n, int channel) {
  const auto bits = static_cast<int>((n >> (16 * channel)) & 0xFFFFu);
  return static_cast<float>(bits - 32768) / 32768.0f;
}

}  // namespace continuo::doubles
