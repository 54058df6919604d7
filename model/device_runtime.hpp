#pragma once

// What Mrt2Model runs on a device instead of the CPU (model.backend, docs/cuda.md): the
// Depthformer's frames, and the SpectroStream decoder's with them once attached, a frame and
// its decoding then being one graph. No device API here: every build compiles this header;
// model/cuda/device_runtime.cpp implements it where the CUDA runtime is built
// (continuo_model_cuda), model/no_cuda/ where not.
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "model/depthformer.hpp"
#include "model/mrt2_types.hpp"
#include "model/spectrostream.hpp"

namespace continuo::model {

class DeviceRuntime {
 public:
  virtual ~DeviceRuntime() = default;
  // The CPU Depthformer's frame: its codes, for the CPU to decode while no decoder is attached.
  virtual FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params) = 0;
  // Forgets every K/V ring, and the attached decoder's streaming state.
  virtual void reset() = 0;
  // `frames` times the CPU's encode(conditioning) + set_previous(codes) + temporal_step();
  // `codes` are then the next frame's input.
  virtual void prefill(const FrameConditioning& conditioning, const FrameCodes& codes, int frames) = 0;

  // Uploads the package's decoder, `host` (the CPU one, which must outlive this), beside the
  // Depthformer. std::runtime_error with CUDA's reason when that fails: the CPU keeps decoding.
  virtual void attach_decoder(const SpectroStreamDecoder& host) = 0;
  virtual bool decodes() const = 0;
  // With a decoder attached: a frame and its 2·frame_samples interleaved stereo samples, the
  // codes passed on the device (one graph replay) ...
  virtual FrameCodes step_and_decode(const FrameConditioning& conditioning, const SamplingParams& params,
                                     std::span<float> out) = 0;
  // ... and the decoder alone on the host's codes (warming it up after a reset).
  virtual void decode(const FrameCodes& codes, std::span<float> out) = 0;
};

struct CudaAvailability {
  std::string device;  // the device that would run it ("" without one)
  // Why the CUDA Depthformer cannot run the package here: no CUDA in this build, no usable
  // device (CUDA's own error), or what the package needs that the kernels lack; "" when it can.
  std::string unavailable;
};

CudaAvailability cuda_availability(const DepthformerConfig& config);

// Bytes of the device's memory in use (by every process; 0 without CUDA or a device): a
// benchmark reads it before and after a load.
std::size_t cuda_memory_used();

// The CUDA runtime of `host`, the CPU Depthformer of the same package, which must outlive it.
// Call where cuda_availability(host.config()) said it can; a failed upload throws
// std::runtime_error with CUDA's reason (Mrt2Model then falls back to the CPU under "auto").
std::unique_ptr<DeviceRuntime> make_cuda_runtime(const Depthformer& host);

}  // namespace continuo::model
