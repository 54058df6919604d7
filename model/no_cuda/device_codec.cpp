// A build without the CUDA runtime: the decoder always runs on the CPU (Mrt2Model never asks,
// as cuda_availability refuses the device first).
#include "model/device_codec.hpp"

#include <stdexcept>

namespace continuo::model {

std::unique_ptr<DeviceCodec> make_cuda_codec(const SpectroStreamDecoder& /*host*/) {
  throw std::logic_error("make_cuda_codec in a build without CUDA");
}

}  // namespace continuo::model
