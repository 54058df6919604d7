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
  // decode() in its pieces, for a graph whose codes come from the device (CudaFrame): stage the
  // lookahead mask (and `codes`, unless the launches read them from the device), enqueue the
  // frame's launches on stream() (or capture them), reading the 12 codes from `device_codes`
  // when given, and once the stream has run them, copy the samples out. check_output first:
  // std::invalid_argument unless `out` holds 2·frame_samples floats.
  void check_output(std::span<const float> out) const;
  void stage_decode(const FrameCodes* codes);
  void enqueue_decode(const std::uint32_t* device_codes);
  void finish_decode(std::span<float> interleaved_stereo_out) const;
  cudaStream_t stream() const;

  std::size_t weight_bytes() const;

 private:
  struct Device;
  std::unique_ptr<Device> device_;
};

}  // namespace continuo::model::cuda
