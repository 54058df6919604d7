// A build without the CUDA runtime (CONTINUO_CUDA=OFF, or no nvcc): model.backend "auto"
// stays on the CPU and "cuda" is refused with this reason.
#include "model/device_runtime.hpp"

#include <stdexcept>

namespace continuo::model {

CudaAvailability cuda_availability(const DepthformerConfig& /*config*/) {
  return {"", "this build has no CUDA runtime (built with CONTINUO_CUDA=OFF or without nvcc)"};
}

std::size_t cuda_memory_used() { return 0; }

std::unique_ptr<DeviceRuntime> make_cuda_runtime(const Depthformer& /*host*/) {
  throw std::logic_error("make_cuda_runtime in a build without CUDA");
}

}  // namespace continuo::model
