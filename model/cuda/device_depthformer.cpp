// model/device_depthformer.hpp on CUDA: the CudaDepthformer behind Mrt2Model's interface.
#include "model/device_depthformer.hpp"

#include "kernels/cuda/cuda.hpp"
#include "model/cuda/cuda_depthformer.hpp"

namespace continuo::model {
namespace {

class CudaDepthformerStep final : public DeviceDepthformer {
 public:
  explicit CudaDepthformerStep(const Depthformer& host) : device_(host) {}

  FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params) override {
    return device_.step(conditioning, params);
  }
  void reset() override { device_.reset(); }
  void prefill(const FrameConditioning& conditioning, const FrameCodes& codes, int frames) override {
    device_.prefill(conditioning, codes, frames);
  }

 private:
  cuda::CudaDepthformer device_;
};

}  // namespace

CudaAvailability cuda_availability(const DepthformerConfig& config) {
  const kernels::cuda::Probe probe = kernels::cuda::probe_devices();
  if (probe.devices == 0) return {"", "no usable CUDA device: " + probe.reason};
  const std::string reason = cuda::CudaDepthformer::unsupported_reason(config);
  if (!reason.empty()) return {probe.name, "the package does not fit the CUDA Depthformer: " + reason};
  return {probe.name, ""};
}

std::unique_ptr<DeviceDepthformer> make_cuda_depthformer(const Depthformer& host) {
  return std::make_unique<CudaDepthformerStep>(host);
}

}  // namespace continuo::model
