#pragma once

// The SpectroStream decoder's frames on a device instead of the CPU, beside the device
// Depthformer (model/device_depthformer.hpp) when model.backend puts the LM there. No device
// API here: model/cuda/device_codec.cpp implements it where the CUDA runtime is built,
// model/no_cuda/ where not.
#include <memory>
#include <span>

#include "model/mrt2_types.hpp"
#include "model/spectrostream.hpp"

namespace continuo::model {

// What Mrt2Model asks of a device decoder: the CPU SpectroStreamDecoder's decode and reset.
class DeviceCodec {
 public:
  virtual ~DeviceCodec() = default;
  virtual void decode(const FrameCodes& codes, std::span<float> interleaved_stereo_out) = 0;
  virtual void reset() = 0;
};

// The CUDA twin of `host`, which must outlive it. Call only where the CUDA Depthformer runs
// (cuda_availability said a device is usable); a failed upload throws std::runtime_error with
// CUDA's reason.
std::unique_ptr<DeviceCodec> make_cuda_codec(const SpectroStreamDecoder& host);

}  // namespace continuo::model
