#include "kernels/cuda/cuda.hpp"

#include <string>

namespace continuo::kernels::cuda {

void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  throw Error(status, std::string(call) + " failed at " + file + ":" + std::to_string(line) +
                          ": " + cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
}

Probe probe_devices() noexcept {
  Probe probe;
  try {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();  // clear it: a later probe starts clean
      probe.reason = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
      return probe;
    }
    if (count == 0) {
      probe.reason = "cudaGetDeviceCount found 0 devices";
      return probe;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
      (void)cudaGetLastError();
      probe.reason = "cudaGetDeviceProperties(0) failed";
      return probe;
    }
    const std::string cc = std::to_string(prop.major) + "." + std::to_string(prop.minor);
    // The build carries sm_90 code and compute_80 PTX: anything older has no kernel image.
    if (prop.major < 8) {
      probe.reason = std::string(prop.name) + " has compute capability " + cc +
                     "; the kernels need 8.0 or newer";
      return probe;
    }
    probe.devices = count;
    probe.name = std::string(prop.name) + " (compute capability " + cc + ")";
  } catch (...) {  // std::string allocation: report no device rather than escape noexcept
    probe.devices = 0;
    probe.reason = "probe failed";
  }
  return probe;
}

std::size_t device_memory_used() noexcept {
  std::size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return total - free;
}

}  // namespace continuo::kernels::cuda
