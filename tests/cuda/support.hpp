#pragma once

// What the CUDA parity test's parts share (tests/cuda/test_cuda_kernels.cpp): device copies of
// host data, poisoned outputs with guards, the pass/fail report.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/cuda.hpp"
#include "tests/kernel_cases.hpp"

namespace continuo::cuda_test {

namespace k = continuo::kernels;
namespace cu = continuo::kernels::cuda;
namespace h = continuo::kernels::harness;

constexpr std::size_t kGuard = 64;      // poisoned elements after every output
constexpr std::size_t kLead = 4;        // and before it (16 bytes: alignment kept)
constexpr double kTolerance = 1e-5;

// ---- device data ---------------------------------------------------------------------------

struct DeviceWeights {
  cu::DeviceBuffer<unsigned char> bytes;
  cu::DeviceWeightView view;
};

inline DeviceWeights upload(k::WeightView w) {
  DeviceWeights d;
  if (w.count == 0) return d;
  const std::size_t n = w.count * k::dtype_size(w.dtype);
  d.bytes = cu::DeviceBuffer<unsigned char>(n);
  d.bytes.upload({static_cast<const unsigned char*>(w.data), n});
  d.view = {d.bytes.data(), w.dtype, w.count};
  return d;
}

// Floats on the device at `offset` elements into their buffer (offset 1: not 16-byte aligned).
struct DeviceFloats {
  cu::DeviceBuffer<float> buffer;
  float* data = nullptr;
};

inline DeviceFloats upload(const float* host, std::size_t n, std::size_t offset = 0) {
  DeviceFloats d{cu::DeviceBuffer<float>(n + offset + 1), nullptr};
  d.buffer.fill_bytes(0xFF);
  d.buffer.upload({host, n}, offset);
  d.data = d.buffer.data() + offset;
  return d;
}

// An output of n values between poisoned guards; read() returns the n values and counts the
// guard elements that were overwritten.
template <typename T>
class Poisoned {
 public:
  explicit Poisoned(std::size_t n) : buffer_(kLead + n + kGuard), n_(n) { buffer_.fill_bytes(0xFF); }
  T* data() { return buffer_.data() + kLead; }
  std::vector<T> read(std::size_t& clobbered) const {
    CONTINUO_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> all(buffer_.size());
    buffer_.download(all);
    T poison;
    std::memset(&poison, 0xFF, sizeof poison);
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i >= kLead && i < kLead + n_) continue;
      clobbered += std::memcmp(&all[i], &poison, sizeof poison) != 0;
    }
    return {all.begin() + kLead, all.begin() + static_cast<std::ptrdiff_t>(kLead + n_)};
  }
  // Poisons the n values again in `stream`'s order (an output reused step after step).
  void repoison(cudaStream_t stream) {
    CONTINUO_CUDA_CHECK(cudaMemsetAsync(data(), 0xFF, n_ * sizeof(T), stream));
  }
  // Sets the n values (an output the op adds to); the guards stay poisoned.
  void fill(const std::vector<T>& host) {
    if (host.size() != n_) throw std::invalid_argument("Poisoned::fill: wrong size");
    buffer_.upload(host, kLead);
  }

 private:
  cu::DeviceBuffer<T> buffer_;
  std::size_t n_;
};

// Host values into device memory in `stream`'s order, as a runtime writes a graph's inputs
// before a replay (pageable memory is staged before the call returns).
template <typename T>
void upload_on(cudaStream_t stream, T* device, const T* host, std::size_t n) {
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(device, host, n * sizeof(T), cudaMemcpyHostToDevice, stream));
}

// A device copy of n plain host values (token ids, offsets).
template <typename T>
cu::DeviceBuffer<T> to_device(const T* host, std::size_t n) {
  cu::DeviceBuffer<T> d(n);
  d.upload({host, n});
  return d;
}

inline std::size_t nonfinite(const std::vector<float>& v) {
  std::size_t n = 0;
  for (float x : v) n += !std::isfinite(x);
  return n;
}

inline double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  return h::relative_error(got, std::vector<double>(want.begin(), want.end()));
}

// ---- report --------------------------------------------------------------------------------

// ---- the device and the seed -------------------------------------------------------------

constexpr int kSkip = 77;  // ctest's SKIP_RETURN_CODE for the cuda label

// The exit status of a test that cannot run here: `why` printed, kSkip (skipped), or 1 where
// CONTINUO_REQUIRE_CUDA=1 says a device must be there. nullopt when `why` is empty.
inline std::optional<int> exit_without_device(const std::string& why) {
  if (why.empty()) return std::nullopt;
  const char* require = std::getenv("CONTINUO_REQUIRE_CUDA");
  const bool required = require != nullptr && std::string(require) == "1";
  std::printf("no CUDA device: %s (%s)\n", required ? "FAIL, CONTINUO_REQUIRE_CUDA=1" : "skipping", why.c_str());
  return required ? 1 : kSkip;
}

// CONTINUO_TEST_SEED when set (to replay a failure), else a fresh 64-bit seed.
inline std::uint64_t test_seed() {
  if (const char* s = std::getenv("CONTINUO_TEST_SEED")) return std::strtoull(s, nullptr, 0);
  std::random_device device;
  return std::uint64_t{device()} << 32 | device();
}

struct Report {
  int passed = 0;
  int failed = 0;
  // bad: unwritten/non-finite outputs, clobbered guards, invalid tokens.
  void record(const std::string& name, double error, double tolerance, std::size_t bad) {
    const bool ok = bad == 0 && error <= tolerance;  // NaN error fails
    (ok ? passed : failed) += 1;
    std::printf("%s %-58s error %.3g (tolerance %.3g)%s\n", ok ? "PASS" : "FAIL", name.c_str(),
                error, tolerance,
                bad != 0 ? (" " + std::to_string(bad) + " unwritten/clobbered").c_str() : "");
    std::fflush(stdout);
  }
};

// Runs a test binary's cases: an exception is one more failure. Prints the totals and the
// seed that replays them; the exit code of main.
inline int run_cases(std::uint64_t seed, const std::function<void(Report&)>& cases) {
  Report report;
  try {
    cases(report);
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    ++report.failed;
  }
  std::printf("%d passed, %d failed (CONTINUO_TEST_SEED=%llu)\n", report.passed, report.failed,
              static_cast<unsigned long long>(seed));
  return report.failed == 0 ? 0 : 1;
}

inline std::string dtype_name(k::DType d) { return h::dtype_name(d); }

// The first n floats of a device copy, once the device has finished (in-place outputs).
inline std::vector<float> download(const DeviceFloats& d, std::size_t n) {
  CONTINUO_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out(n);
  CONTINUO_CUDA_CHECK(cudaMemcpy(out.data(), d.data, n * sizeof(float), cudaMemcpyDeviceToHost));
  return out;
}

// Part 2's fresh-input checks of the transformer layers' ops (fresh_layers.cpp), the codec's
// elementwise ops (fresh_codec.cpp), its streaming ops (fresh_streaming.cpp) and its
// transforms and quantiser (fresh_transforms.cpp), seeded by the run's seed.
void fresh_layer_cases(Report& r, std::uint64_t seed);
void fresh_codec_cases(Report& r, std::uint64_t seed);
void fresh_streaming_cases(Report& r, std::uint64_t seed);
void fresh_transform_cases(Report& r, std::uint64_t seed);

}  // namespace continuo::cuda_test
