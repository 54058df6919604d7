// One harness for every op on every backend, in the spirit of llama.cpp's test-backend-ops:
// a table of cases (op, shapes, weight dtype), each run on fixed-seed random inputs and
// compared with a deliberately naive double-precision reference. The cases, references and
// Backend tables live in tests/kernel_cases.hpp, shared with bench/bench_kernels.cpp, which
// times Case::compute alone. A second backend (CUDA, issue 4) is one more Backend table and
// one line in backends() there; the same cases then check its parity here.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.hpp"
#include "tests/kernel_cases.hpp"

namespace continuo::kernels {
namespace {

using namespace harness;  // the cases: tests/kernel_cases.hpp

struct Entry {
  Factory make;
  const Backend* backend;
};

void PrintTo(const Entry& entry, std::ostream* os) {
  *os << entry.make()->name() << " on " << entry.backend->name;
}

std::vector<Entry> entries() {
  std::vector<Entry> out;
  for (const Backend* backend : backends()) {
    for (Factory& f : cases()) out.push_back({std::move(f), backend});
  }
  return out;
}


class KernelParity : public testing::TestWithParam<Entry> {};

TEST_P(KernelParity, MatchesNaiveReference) {
  const std::unique_ptr<Case> c = GetParam().make();
  Rng rng(seed_of(c->name()));
  c->setup(rng);
  c->compute(*GetParam().backend);
  const double error = c->error();
  RecordProperty("error", std::to_string(error));
  EXPECT_LE(error, c->tolerance()) << c->name() << " on " << GetParam().backend->name;
}

INSTANTIATE_TEST_SUITE_P(Kernel, KernelParity, testing::ValuesIn(entries()),
                         [](const testing::TestParamInfo<Entry>& info) {
                           return info.param.make()->name() + "_" + info.param.backend->name;
                         });

// ---- Properties beyond parity ------------------------------------------------------------

// A block's post-norm and residual add in one pass give what the two steps gave, bit for bit:
// the CPU Depthformer's parity with PyTorch was measured with the two steps.
TEST(KernelRmsNorm, ResidualAddsExactlyWhatRmsNormGives) {
  Rng rng(7);
  for (const DType dtype : {DType::f32, DType::bf16}) {
    for (const bool with_scale : {false, true}) {
      const std::size_t dim = 129;
      const auto y = uniform(rng, dim, -2.0f, 3.0f);
      const auto start = uniform(rng, dim, -4.0f, 4.0f);
      Param scale;
      if (with_scale) scale = param(rng, dim, dtype, 0.5f, 1.5f);
      std::vector<float> normed(dim);
      rms_norm({dim, 1e-6f}, scale.view(dtype), y.data(), normed.data());
      std::vector<float> fused = start;
      rms_norm_residual({dim, 1e-6f}, scale.view(dtype), y.data(), fused.data());
      for (std::size_t i = 0; i < dim; ++i) {
        const float two_steps = start[i] + normed[i];
        ASSERT_EQ(std::bit_cast<std::uint32_t>(fused[i]), std::bit_cast<std::uint32_t>(two_steps))
            << "element " << i << (with_scale ? " with" : " without") << " scale";
      }
    }
  }
}

TEST(KernelAttention, NothingToAttendToGivesZeros) {
  std::vector<float> keys(2 * 8), values(2 * 8), q(8, 1.0f), scale(4), out(8, 7.0f);
  KvRing ring{keys.data(), values.data(), 2, 2, 4};
  const AttentionSinks none{};
  std::vector<float> scratch(attend_scratch_size(ring, none));
  query_scale({}, 4, scale.data());
  attend(ring, none, q.data(), scale.data(), scratch.data(), out.data());
  EXPECT_EQ(out, std::vector<float>(8, 0.0f));
}

TEST(KernelAttention, SinkAloneReturnsItsValue) {
  std::vector<float> keys(4), values(4), q{0.3f, -2.0f, 1.0f, 4.0f}, scale(4), out(4);
  const std::vector<float> sink_k{1, 2, 3, 4}, sink_v{0.5f, -1.5f, 2.5f, 8.0f};
  KvRing ring{keys.data(), values.data(), 1, 1, 4};
  const AttentionSinks sinks{{sink_k.data(), DType::f32, 4}, {sink_v.data(), DType::f32, 4}, 1};
  std::vector<float> scratch(attend_scratch_size(ring, sinks));
  query_scale({}, 4, scale.data());
  attend(ring, sinks, q.data(), scale.data(), scratch.data(), out.data());
  EXPECT_EQ(out, sink_v);
}

TEST(KernelAttention, RingKeepsTheNewestWindowInOrder) {
  std::vector<float> keys(3), values(3);
  KvRing ring{keys.data(), values.data(), 3, 1, 1};
  for (float t = 0; t < 5; ++t) kv_ring_push(ring, &t, &t);
  ASSERT_EQ(ring.filled, 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(keys[kv_ring_slot(ring, i)], float(2 + i));
  kv_ring_clear(ring);
  EXPECT_EQ(ring.filled, 0u);
}

TEST(KernelAttention, PerDimScaleOfZeroIsInverseSqrtDim) {
  const std::vector<float> zeros(64, 0.0f);
  std::vector<float> scale(64);
  query_scale({zeros.data(), DType::f32, 64}, 64, scale.data());
  for (float s : scale) EXPECT_NEAR(s, 0.125f, 1e-7f);  // softplus(0) = ln 2 = 1/1.442695041
}

std::uint32_t draw(const std::vector<float>& logits, std::size_t top_k, float t, double u) {
  std::vector<std::uint32_t> scratch(logits.size());
  return sample_uniform({logits.size(), top_k, t}, logits.data(), u, scratch.data());
}

TEST(KernelSample, HandMadeUniformDraws) {
  // Probabilities 0.1, 0.2, 0.3, 0.4; the CDF runs over indices 3, 2, 1, 0.
  const std::vector<float> l{std::log(1.0f), std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  EXPECT_EQ(draw(l, 0, 1.0f, 0.0), 3u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.39), 3u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.41), 2u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.69), 2u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.71), 1u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.89), 1u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.91), 0u);
  EXPECT_EQ(draw(l, 0, 1.0f, 0.999999), 0u);
  // top-k 2 renormalises to 4/7, 3/7.
  EXPECT_EQ(draw(l, 2, 1.0f, 0.57), 3u);
  EXPECT_EQ(draw(l, 2, 1.0f, 0.58), 2u);
  EXPECT_EQ(draw(l, 2, 1.0f, 0.999999), 2u);
  // Equal logits: index ascending.
  EXPECT_EQ(draw({1.0f, 1.0f, 0.0f}, 0, 1.0f, 0.0), 0u);
  EXPECT_EQ(draw({0.0f, 1.0f, 1.0f}, 0, 1.0f, 0.0), 1u);
  // Ties at the k-th logit are all kept, as `logits >= kth_logit` keeps them.
  EXPECT_EQ(draw({5.0f, 0.0f, 0.0f, -50.0f}, 1, 1.0f, 0.999), 0u);
  EXPECT_EQ(draw({0.0f, 5.0f, 0.0f, 0.0f}, 2, 1.0f, 0.999999), 3u);
}

TEST(KernelSample, TemperatureZeroPicksArgmax) {
  Rng rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const std::vector<float> l = uniform(rng, 1024, -30.0f, 30.0f);
    const auto argmax = static_cast<std::uint32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    EXPECT_EQ(draw(l, 40, 0.0f, 0.999), argmax);
    EXPECT_EQ(draw(l, 0, 1e-4f, 0.999), argmax);  // the limit T → 0
    std::vector<std::uint32_t> scratch(l.size());
    const std::vector<float> noise = uniform(rng, 1024, -3.0f, 3.0f);
    EXPECT_EQ(sample_gumbel({l.size(), 40, 0.0f}, l.data(), noise.data(), scratch.data()), argmax);
  }
  EXPECT_EQ(draw({2.0f, 7.0f, 7.0f}, 0, 0.0f, 0.5), 1u);  // first of equal maxima
}

TEST(KernelSample, TopKNeverPicksOutsideTopK) {
  Rng rng(11);
  const std::vector<float> l = uniform(rng, 1024, -30.0f, 30.0f);
  auto top = naive_top_k(l, 40);
  ASSERT_EQ(top.size(), 40u);
  std::vector<bool> allowed(l.size(), false);
  for (std::uint32_t i : top) allowed[i] = true;
  std::vector<std::uint32_t> scratch(l.size());
  // A high temperature flattens the distribution, so every kept index gets drawn.
  for (std::uint64_t frame = 0; frame < 4000; ++frame) {
    const std::uint32_t i = sample_seeded({l.size(), 40, 50.0f}, l.data(), {99, frame, 5},
                                          scratch.data());
    ASSERT_TRUE(allowed[i]) << "frame " << frame << " picked " << i;
  }
}

TEST(KernelSample, SeededDrawDependsOnlyOnSeedFrameLevel) {
  Rng rng(3);
  const std::vector<float> l = uniform(rng, 1024, -3.0f, 3.0f);
  std::vector<std::uint32_t> scratch(l.size());
  const SampleShape shape{l.size(), 0, 1.0f};
  const std::uint32_t first = sample_seeded(shape, l.data(), {42, 1000, 3}, scratch.data());
  for (std::uint32_t level = 0; level < 12; ++level) {  // unrelated draws in between
    sample_seeded(shape, l.data(), {42, 999, level}, scratch.data());
  }
  EXPECT_EQ(sample_seeded(shape, l.data(), {42, 1000, 3}, scratch.data()), first);
  EXPECT_EQ(philox_uniform({42, 1000, 3}), philox_uniform({42, 1000, 3}));
  EXPECT_NE(philox_uniform({42, 1000, 3}), philox_uniform({42, 1000, 4}));
  EXPECT_NE(philox_uniform({42, 1000, 3}), philox_uniform({42, 1001, 3}));
  EXPECT_NE(philox_uniform({42, 1000, 3}), philox_uniform({43, 1000, 3}));
}

// Known-answer vectors of Random123's kat_vectors for philox4x32_10.
TEST(KernelSample, PhiloxKnownAnswers) {
  using A4 = std::array<std::uint32_t, 4>;
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (A4{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox4x32_10({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}),
            (A4{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                          {0xa4093822u, 0x299f31d0u}),
            (A4{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

// Many seeded draws follow softmax(logits / T) over the top k: a χ² test with a fixed seed,
// so it is deterministic (it cannot flake) yet would catch a biased CDF or RNG.
TEST(KernelSample, SeededDrawsFollowTheDistribution) {
  const std::vector<float> l{0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -3.0f, 1.5f, 0.2f, -0.5f, 0.9f};
  const SampleShape shape{l.size(), 8, 1.3f};
  const auto kept = naive_top_k(l, 8);
  std::vector<double> p(l.size(), 0.0);
  double total = 0.0;
  for (std::uint32_t i : kept) total += (p[i] = std::exp(l[i] / 1.3));
  std::vector<double> counts(l.size(), 0.0);
  std::vector<std::uint32_t> scratch(l.size());
  constexpr int kDraws = 50000;
  for (std::uint64_t frame = 0; frame < kDraws; ++frame) {
    counts[sample_seeded(shape, l.data(), {2024, frame, 7}, scratch.data())] += 1;
  }
  double chi2 = 0.0;
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (p[i] == 0.0) {
      EXPECT_EQ(counts[i], 0.0) << "index " << i << " is outside the top k";
      continue;
    }
    const double expected = kDraws * p[i] / total;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  EXPECT_LT(chi2, 24.32);  // 7 degrees of freedom, p = 0.001
  EXPECT_GT(chi2, 0.0);    // not a degenerate (e.g. constant) draw
}

}  // namespace
}  // namespace continuo::kernels
