#pragma once

// The Depthformer's frames on a device instead of the CPU (model.backend, docs/cuda.md). No
// device API here: every build compiles this header; model/cuda/device_depthformer.cpp
// implements it where the CUDA runtime is built (continuo_model_cuda), model/no_cuda/ where not.
#include <memory>
#include <string>

#include "model/depthformer.hpp"
#include "model/mrt2_types.hpp"

namespace continuo::model {

// What Mrt2Model asks of a device Depthformer: the CPU Depthformer's frame, reset and prefill.
class DeviceDepthformer {
 public:
  virtual ~DeviceDepthformer() = default;
  virtual FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params) = 0;
  virtual void reset() = 0;
  // `frames` times the CPU's encode(conditioning) + set_previous(codes) + temporal_step();
  // `codes` are then the next frame's input.
  virtual void prefill(const FrameConditioning& conditioning, const FrameCodes& codes, int frames) = 0;
};

struct CudaAvailability {
  std::string device;  // the device that would run it ("" without one)
  // Why the CUDA Depthformer cannot run the package here: no CUDA in this build, no usable
  // device (CUDA's own error), or what the package needs that the kernels lack; "" when it can.
  std::string unavailable;
};

CudaAvailability cuda_availability(const DepthformerConfig& config);

// The CUDA twin of `host`, the CPU Depthformer of the same package, which must outlive it.
// Call where cuda_availability(host.config()) said it can; a failed upload throws
// std::runtime_error with CUDA's reason (Mrt2Model then falls back to the CPU under "auto").
std::unique_ptr<DeviceDepthformer> make_cuda_depthformer(const Depthformer& host);

}  // namespace continuo::model
