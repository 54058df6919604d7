// The engine's own cost, apart from any model: what the audio thread spends per JACK
// period, and what resampling adds to each generated frame.
#include <benchmark/benchmark.h>

#include <vector>

#include "engine/audio_ring.hpp"
#include "engine/frame_source.hpp"
#include "engine/playback.hpp"
#include "tests/doubles/doubles.hpp"

namespace continuo {
namespace {

void BM_PlaybackPeriod(benchmark::State& state) {
  const auto period = static_cast<std::size_t>(state.range(0));
  AudioRing ring(16 * 1024);
  Playback playback(ring, PlaybackConfig{});
  std::vector<float> refill(period * AudioRing::kChannels, 0.25f);
  std::vector<float> left(period), right(period);
  while (ring.writable_frames() >= period) ring.push(refill);
  for (auto _ : state) {
    playback.render(left.data(), right.data(), period);
    ring.push(refill);  // keep the ring at a steady fill, as the generator does
    benchmark::DoNotOptimize(left.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(period));
}
BENCHMARK(BM_PlaybackPeriod)->Arg(64)->Arg(256)->Arg(1024);

void BM_FrameSource(benchmark::State& state) {
  ModelRegistry registry;
  doubles::register_test_doubles(registry);
  auto model = registry.load("double:counter");
  ControlState control(ControlSnapshot{});
  const auto quality = static_cast<ResamplerQuality>(state.range(1));
  FrameSource source(*model, control, static_cast<int>(state.range(0)), quality);
  for (auto _ : state) benchmark::DoNotOptimize(source.next_frame().data());
  state.SetItemsProcessed(state.iterations());
}
// Output rate, resampler quality (0 best, 1 medium, 2 fastest); 48000 passes through.
BENCHMARK(BM_FrameSource)->Args({48000, 1})->Args({44100, 0})->Args({44100, 1})->Args({44100, 2})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace continuo
