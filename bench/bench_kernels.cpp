// The kernels' perf mode: every case of the parity harness (tests/kernel_cases.hpp, the table
// tests/unit/test_kernels.cpp checks) timed per op on every backend, Case::compute alone,
// inputs set up once outside the timed loop; after timing, the case's error is checked again
// and reported (a fast op that is wrong is not a result).
//
// Then the SpectroStream decoder's convolutions at the real model's shapes
// (docs/spectrostream.md: one 40 ms token frame, per channel group), each with random bf16
// weights: time per call, GFLOP/s, and how many times the real decoder runs it per frame,
// so the per-layer times add up to the codec stage of bench_model.
//
//   build/bench/bench_kernels [--benchmark_filter=REGEX] [--benchmark_min_time=0.2s]
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d.hpp"
#include "tests/kernel_cases.hpp"

namespace continuo::kernels {
namespace {

using namespace harness;

void register_harness_cases() {
  for (const Backend* backend : backends()) {
    for (Factory& factory : cases()) {
      const std::string name = factory()->name();
      benchmark::RegisterBenchmark(
          ("op/" + name + "/" + backend->name).c_str(),
          [factory, backend](benchmark::State& state) {
            const std::unique_ptr<Case> c = factory();
            Rng rng(seed_of(c->name()));
            c->setup(rng);
            for (auto _ : state) {
              c->compute(*backend);
              benchmark::ClobberMemory();
            }
            const double error = c->error();
            state.counters["error"] = error;
            if (error > c->tolerance()) state.SkipWithError("error above the case's tolerance");
          })
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

// ---- SpectroStream decoder convolutions at the real shapes --------------------------------

struct CodecLayer {
  const char* name;
  bool transposed;
  int kt, kf, st, sf, cin, cout, freq, frames;
  int per_frame;  // calls per token frame: 2 after the channel split (one per group)
};

// docs/spectrostream.md, "Shapes, real model": [1,5,512] → d0 (2,1) → [2,5,1024] → split →
// [2,5,512]×2 → d1 (2,2) → [4,10,256] → d2 (1,2) → [4,20,256] → d3 (1,2) → [4,40,256] →
// d4 (1,3) → [4,120,128] → d5 (1,2) → [4,240,128] → d6 (1,2) → [4,480,64] → 7×7 → [4,480,2].
// up: kernel max(3, 2·stride) per axis; conv 3×3; skip 1×1 where the channels change.
const CodecLayer kCodecLayers[] = {
    {"input.proj", false, 1, 1, 1, 1, 256, 2560, 1, 1, 1},
    {"input.b1", false, 1, 1, 1, 1, 256, 2560, 1, 1, 1},
    {"input.b2", false, 1, 1, 1, 1, 2560, 2560, 1, 1, 1},
    {"input.res_a", false, 3, 3, 1, 1, 512, 512, 5, 1, 1},
    {"input.res_b", false, 3, 3, 1, 1, 512, 512, 5, 1, 1},
    {"block0.up", true, 4, 3, 2, 1, 512, 1024, 5, 1, 1},
    {"block0.conv", false, 3, 3, 1, 1, 1024, 1024, 5, 2, 1},
    {"block0.skip", false, 1, 1, 1, 1, 512, 1024, 5, 1, 1},
    {"block1.up", true, 4, 4, 2, 2, 512, 256, 5, 2, 2},
    {"block1.conv", false, 3, 3, 1, 1, 256, 256, 10, 4, 2},
    {"block1.skip", false, 1, 1, 1, 1, 512, 256, 5, 2, 2},
    {"block2.up", true, 3, 4, 1, 2, 256, 256, 10, 4, 2},
    {"block2.conv", false, 3, 3, 1, 1, 256, 256, 20, 4, 2},
    {"block3.up", true, 3, 4, 1, 2, 256, 256, 20, 4, 2},
    {"block3.conv", false, 3, 3, 1, 1, 256, 256, 40, 4, 2},
    {"block4.up", true, 3, 6, 1, 3, 256, 128, 40, 4, 2},
    {"block4.conv", false, 3, 3, 1, 1, 128, 128, 120, 4, 2},
    {"block4.skip", false, 1, 1, 1, 1, 256, 128, 40, 4, 2},
    {"block5.up", true, 3, 4, 1, 2, 128, 128, 120, 4, 2},
    {"block5.conv", false, 3, 3, 1, 1, 128, 128, 240, 4, 2},
    {"block6.up", true, 3, 4, 1, 2, 128, 64, 240, 4, 2},
    {"block6.conv", false, 3, 3, 1, 1, 64, 64, 480, 4, 2},
    {"block6.skip", false, 1, 1, 1, 1, 128, 64, 240, 4, 2},
    {"output", false, 7, 7, 1, 1, 64, 2, 480, 4, 2},
};

// Multiply-adds of one call: every input pixel meets the whole kernel (transposed: scatters
// into kt·kf outputs; direct: each output pixel gathers kt·kf inputs, frames·freq outputs).
double macs(const CodecLayer& l) {
  return static_cast<double>(l.frames) * l.freq * l.kt * l.kf * l.cin * l.cout;
}

void bench_codec_layer(benchmark::State& state, CodecLayer l, DType dtype) {
  Rng rng(seed_of(l.name));
  const std::size_t weight_count = static_cast<std::size_t>(l.kt) * l.kf * l.cin * l.cout;
  const float bound = 1.0f / std::sqrt(static_cast<float>(l.kt * l.kf * l.cin));
  const Param weight = param(rng, weight_count, dtype, -bound, bound);
  const Param bias = param(rng, static_cast<std::size_t>(l.cout), DType::f32, -0.1f, 0.1f);
  const std::vector<float> x =
      uniform(rng, static_cast<std::size_t>(l.frames) * l.freq * l.cin, -1.0f, 1.0f);
  std::vector<float> state_buffer, scratch, y;
  if (l.transposed) {
    const ConvTranspose2dShape shape{l.kt, l.kf, l.st, l.sf, l.cin, l.cout,
                                     l.freq, conv_transpose_same_pad(l.kf, l.sf), l.frames};
    state_buffer.resize(conv_transpose2d_overlap_size(shape));
    scratch.resize(conv_transpose2d_scratch_size(shape));
    y.resize(static_cast<std::size_t>(l.frames) * l.st * l.freq * l.sf * l.cout);
    for (auto _ : state) {
      conv_transpose2d(shape, weight.view(dtype), bias.view(DType::f32), state_buffer.data(),
                       x.data(), scratch.data(), y.data());
      benchmark::ClobberMemory();
    }
  } else {
    const Conv2dShape shape{l.kt, l.kf, l.cin, l.cout, l.freq, (l.kf - 1) / 2, l.frames};
    state_buffer.resize(conv2d_history_size(shape));
    scratch.resize(conv2d_scratch_size(shape));
    y.resize(static_cast<std::size_t>(l.frames) * l.freq * l.cout);
    for (auto _ : state) {
      conv2d(shape, weight.view(dtype), bias.view(DType::f32), state_buffer.data(), x.data(),
             scratch.data(), y.data());
      benchmark::ClobberMemory();
    }
  }
  const double per_call = 2.0 * macs(l);
  state.counters["GFLOP/s"] = benchmark::Counter(per_call * static_cast<double>(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.counters["MFLOP"] = per_call / 1e6;
  state.counters["per_frame"] = l.per_frame;
}

void register_codec_layers() {
  double total = 0.0;
  for (const CodecLayer& layer : kCodecLayers) {
    total += macs(layer) * layer.per_frame;
    benchmark::RegisterBenchmark((std::string("codec/") + layer.name + "/bf16").c_str(),
                                 bench_codec_layer, layer, DType::bf16)
        ->Unit(benchmark::kMicrosecond);
  }
  std::printf("SpectroStream decoder, real shapes: %.2f GFLOP per 40 ms token frame "
              "(%.0f GFLOP/s to keep up)\n",
              2.0 * total / 1e9, 2.0 * total / 1e9 / 0.040);
}

}  // namespace
}  // namespace continuo::kernels

int main(int argc, char** argv) {
  continuo::kernels::register_harness_cases();
  continuo::kernels::register_codec_layers();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
