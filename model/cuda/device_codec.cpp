// model/device_codec.hpp on CUDA: the CudaSpectroStreamDecoder behind Mrt2Model's interface.
#include "model/device_codec.hpp"

#include "model/cuda/cuda_spectrostream.hpp"

namespace continuo::model {
namespace {

class CudaCodec final : public DeviceCodec {
 public:
  explicit CudaCodec(const SpectroStreamDecoder& host) : device_(host) {}
  void decode(const FrameCodes& codes, std::span<float> out) override { device_.decode(codes, out); }
  void reset() override { device_.reset(); }

 private:
  cuda::CudaSpectroStreamDecoder device_;
};

}  // namespace

std::unique_ptr<DeviceCodec> make_cuda_codec(const SpectroStreamDecoder& host) {
  return std::make_unique<CudaCodec>(host);
}

}  // namespace continuo::model
