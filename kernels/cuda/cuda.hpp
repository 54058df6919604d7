#pragma once

// Shared host-side helpers of the CUDA kernels (issue 4, docs/cuda.md): error checking, a
// device-presence probe, device buffers and device weight views. Plain C++: usable from .cpp
// files (through CUDA::cudart's include directory) as well as from .cu files.
//
// The kernels' host API (kernels/<op>/<op>_cuda.hpp) follows one rule so that a runtime can
// capture a whole frame into a CUDA graph: every call takes a cudaStream_t and device
// pointers to memory the caller allocated up front, and only enqueues work: no allocation,
// no copy, no synchronisation inside. Errors of the launch itself (bad configuration, no
// kernel image for this GPU) are thrown as cuda::Error.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/tensor.hpp"

namespace continuo::kernels::cuda {

class Error : public std::runtime_error {
 public:
  Error(cudaError_t code, const std::string& what) : std::runtime_error(what), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

// Throws Error ("<call> failed at <file>:<line>: <name>: <description>") unless cudaSuccess.
void check(cudaError_t status, const char* call, const char* file, int line);

#define CONTINUO_CUDA_CHECK(call) ::continuo::kernels::cuda::check((call), #call, __FILE__, __LINE__)
// Right after a <<<...>>> launch: the launch's own error, without synchronising.
#define CONTINUO_CUDA_CHECK_LAUNCH() \
  ::continuo::kernels::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

// Whether a usable device is present. Never throws: no driver, no device, a driver older
// than the runtime all give devices == 0 and say why.
struct Probe {
  int devices = 0;
  std::string reason;  // empty when devices > 0
  std::string name;    // device 0's name and compute capability when devices > 0
};
Probe probe_devices() noexcept;

// Bytes of device 0's memory in use by every process (cudaMemGetInfo: total − free); 0 where
// it cannot be read. For benchmarks: what a model's upload and buffers take is the difference
// across its load.
std::size_t device_memory_used() noexcept;

// A weight tensor in device memory: WeightView's twin. A view with count 0 is absent (no
// bias, no scale), as on the CPU.
struct DeviceWeightView {
  const void* data = nullptr;
  DType dtype = DType::f32;
  std::size_t count = 0;
};

// Device memory for count values of T, freed on destruction; move-only. Allocation happens
// here, at load, never in a kernel call. The copies are synchronous (tests, loading).
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count != 0) CONTINUO_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes()));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  T* data() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

  // Copies host values to the first host.size() elements (or from offset).
  void upload(std::span<const T> host, std::size_t offset = 0) {
    if (offset + host.size() > count_) throw std::out_of_range("DeviceBuffer::upload past the end");
    if (host.empty()) return;
    CONTINUO_CUDA_CHECK(
        cudaMemcpy(data_ + offset, host.data(), host.size_bytes(), cudaMemcpyHostToDevice));
  }
  void download(std::span<T> host, std::size_t offset = 0) const {
    if (offset + host.size() > count_) throw std::out_of_range("DeviceBuffer::download past the end");
    if (host.empty()) return;
    CONTINUO_CUDA_CHECK(
        cudaMemcpy(host.data(), data_ + offset, host.size_bytes(), cudaMemcpyDeviceToHost));
  }
  // Every byte set to `byte`: 0xFF poisons floats with NaN (and indices with 0xFFFFFFFF).
  void fill_bytes(unsigned char byte) {
    if (count_ != 0) CONTINUO_CUDA_CHECK(cudaMemset(data_, byte, bytes()));
  }

 private:
  void release() noexcept {
    if (data_ != nullptr) cudaFree(data_);
    data_ = nullptr;
    count_ = 0;
  }

  T* data_ = nullptr;
  std::size_t count_ = 0;
};

// True when p is 16-byte aligned: the kernels' vector loads need it, and fall back to
// scalar loads otherwise.
inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace continuo::kernels::cuda
