#pragma once

// The SpectroStream decoder's frame on a CUDA device (issue 4, docs/cuda.md): the twin of
// model/spectrostream.hpp built from the kernels' CUDA twins. At load its weights are uploaded
// once (as stored) and every device buffer and streaming state (convolution histories,
// transposed-convolution overlaps, the inverse STFT's open samples, the phase_accumulate mode's
// running phases) allocated; the whole frame (codes upload, RVQ sum, input stage, blocks,
// channel split, output convolutions, lookahead mask, phase accumulation, inverse STFT, samples
// download) is captured once as a CUDA graph and replayed. The calling (generator) thread
// waits on the runtime's own stream only.
#include <memory>
#include <span>

#include "model/cuda/cuda_depthformer.hpp"
#include "model/mrt2_types.hpp"
#include "model/spectrostream.hpp"

namespace continuo::model::cuda {

class CudaSpectroStreamDecoder {
 public:
  // Uploads the weights of `host`, the CPU decoder of the same package, which must outlive
  // this runtime (its layers and sizes are read, never its state). Needs a CUDA device:
  // cuda::Error when none is usable.
  explicit CudaSpectroStreamDecoder(const SpectroStreamDecoder& host);
  ~CudaSpectroStreamDecoder();
  CudaSpectroStreamDecoder(const CudaSpectroStreamDecoder&) = delete;
  CudaSpectroStreamDecoder& operator=(const CudaSpectroStreamDecoder&) = delete;

  // SpectroStreamDecoder::reset's twin: zero streaming state, the lookahead still to come.
  void reset();
  // SpectroStreamDecoder::decode's twin: 2·frame_samples interleaved stereo floats.
  void decode(const FrameCodes& codes, std::span<float> interleaved_stereo_out, Launch launch = Launch::graph);
  std::size_t weight_bytes() const;

 private:
  struct Device;
  std::unique_ptr<Device> device_;
};

}  // namespace continuo::model::cuda
