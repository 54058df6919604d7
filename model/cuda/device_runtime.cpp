// model/device_runtime.hpp on CUDA: the CudaDepthformer, and once attached the
// CudaSpectroStreamDecoder and their joint frame graph (CudaFrame), behind Mrt2Model's interface.
#include "model/device_runtime.hpp"

#include <optional>
#include <stdexcept>

#include "kernels/cuda/cuda.hpp"
#include "model/cuda/cuda_depthformer.hpp"
#include "model/cuda/cuda_frame.hpp"
#include "model/cuda/cuda_spectrostream.hpp"

namespace continuo::model {
namespace {

class CudaRuntime final : public DeviceRuntime {
 public:
  explicit CudaRuntime(const Depthformer& host) : lm_(host) {}

  FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params) override {
    return lm_.step(conditioning, params);
  }
  void reset() override {
    lm_.reset();
    if (codec_) codec_->reset();
  }
  void prefill(const FrameConditioning& conditioning, const FrameCodes& codes, int frames) override {
    lm_.prefill(conditioning, codes, frames);
  }

  void attach_decoder(const SpectroStreamDecoder& host) override {
    try {
      codec_.emplace(host);
      frame_.emplace(lm_, *codec_);
    } catch (...) {
      frame_.reset();
      codec_.reset();
      throw;
    }
  }
  bool decodes() const override { return frame_.has_value(); }
  FrameCodes step_and_decode(const FrameConditioning& conditioning, const SamplingParams& params,
                             std::span<float> out) override {
    return attached().step(conditioning, params, out);
  }
  void decode(const FrameCodes& codes, std::span<float> out) override {
    attached();
    codec_->decode(codes, out);
  }

 private:
  cuda::CudaFrame& attached() {
    if (!frame_) throw std::logic_error("the CUDA runtime has no decoder attached");
    return *frame_;
  }

  cuda::CudaDepthformer lm_;
  std::optional<cuda::CudaSpectroStreamDecoder> codec_;
  std::optional<cuda::CudaFrame> frame_;  // declared last: refers to lm_ and codec_
};

}  // namespace

CudaAvailability cuda_availability(const DepthformerConfig& config) {
  const kernels::cuda::Probe probe = kernels::cuda::probe_devices();
  if (probe.devices == 0) return {"", "no usable CUDA device: " + probe.reason};
  const std::string reason = cuda::CudaDepthformer::unsupported_reason(config);
  if (!reason.empty()) return {probe.name, "the package does not fit the CUDA Depthformer: " + reason};
  return {probe.name, ""};
}

std::unique_ptr<DeviceRuntime> make_cuda_runtime(const Depthformer& host) {
  return std::make_unique<CudaRuntime>(host);
}

std::size_t cuda_memory_used() { return kernels::cuda::device_memory_used(); }

}  // namespace continuo::model
