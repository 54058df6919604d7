// The kernels' perf mode: every case of the parity harness (tests/kernel_cases.hpp, the table
// tests/unit/test_kernels.cpp checks) timed per op on every backend, Case::compute alone,
// inputs set up once outside the timed loop; after timing, the case's error is checked again
// and reported (a fast op that is wrong is not a result).
//
// The SpectroStream decoder's ops (conv2d, conv_transpose2d, elu, upsample2d) are timed at
// the real shapes by bench/bench_codec.cpp.
//
//   build/bench/bench_kernels [--benchmark_filter=REGEX] [--benchmark_min_time=0.1]
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

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

}  // namespace
}  // namespace continuo::kernels

int main(int argc, char** argv) {
  continuo::kernels::register_harness_cases();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
