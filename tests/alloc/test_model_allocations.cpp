// A model package steps without touching the heap: every buffer, ring and streaming state
// is allocated at load (issue 3). This binary replaces the global allocator to count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <vector>

#include "model/mrt2_model.hpp"
#include "model/spectrostream.hpp"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace continuo::model {
namespace {

TEST(ModelAllocations, SteppingAPackageAllocatesNothing) {
  const auto dir = std::filesystem::path(CONTINUO_SOURCE_DIR) / "tests/fixtures/mrt2/tiny/package";
  Mrt2Model model(dir, 0);
  model.reset(7);
  std::vector<float> frame(static_cast<std::size_t>(model.info().frame_samples * model.info().channels));
  ControlSnapshot control;
  control.notes[60] = NoteState::onset;
  control.style_tokens[0] = 5;
  for (int f = 0; f < 5; ++f) model.step(control, frame);  // first calls may start helper threads
  const long before = g_allocations.load();
  for (int f = 0; f < 100; ++f) model.step(control, frame);
  EXPECT_EQ(g_allocations.load() - before, 0) << "allocations while stepping 100 frames";
}

// The tiny package's codec has neither of continuo's output modes; their state is allocated at
// load too.
TEST(ModelAllocations, DecodingInContinuosOutputModesAllocatesNothing) {
  for (const char* fixture : {"default_codec_phase", "default_codec_peak"}) {
    const ModelPackage package =
        ModelPackage::open(std::filesystem::path(CONTINUO_SOURCE_DIR) / "tests/fixtures" / fixture / "package");
    SpectroStreamDecoder decoder(package);
    ASSERT_TRUE(decoder.config().phase_accumulate || decoder.config().peak_phase) << fixture;
    std::vector<float> out(2 * static_cast<std::size_t>(decoder.frame_samples()));
    FrameCodes codes{};
    decoder.decode(codes, out);  // the lookahead's masked frame
    const long before = g_allocations.load();
    for (int f = 0; f < 5; ++f) {
      codes.fill(f);
      decoder.decode(codes, out);
    }
    decoder.reset();
    EXPECT_EQ(g_allocations.load() - before, 0) << fixture << ": allocations while decoding 5 frames and resetting";
  }
}

}  // namespace
}  // namespace continuo::model
