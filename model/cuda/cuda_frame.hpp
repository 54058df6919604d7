#pragma once

// One generated frame on a CUDA device as one graph (issue 4, docs/cuda.md): the
// CudaDepthformer's step and the CudaSpectroStreamDecoder's decoding of its codes, which pass
// from one to the other on the device. The host stages both runtimes' values, launches once
// and waits once, on the Depthformer's stream.
#include <cuda_runtime_api.h>

#include <span>

#include "model/cuda/cuda_depthformer.hpp"
#include "model/cuda/cuda_spectrostream.hpp"
#include "model/cuda/graph_stream.hpp"

namespace continuo::model::cuda {

class CudaFrame {
 public:
  // Captures the two runtimes' launches as one graph; both must outlive this. cuda::Error
  // when the capture fails.
  CudaFrame(CudaDepthformer& lm, CudaSpectroStreamDecoder& codec);

  // CudaDepthformer::step, then CudaSpectroStreamDecoder::decode of its codes into `out`
  // (2·frame_samples interleaved stereo floats): the same work, one replay and one wait.
  FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params, std::span<float> out,
                  Launch launch = Launch::graph);

 private:
  void enqueue();

  CudaDepthformer& lm_;
  CudaSpectroStreamDecoder& codec_;
  Event stepped_, decoded_;  // the decoder's stream forks from the step and joins back
  GraphExec graph_;
};

}  // namespace continuo::model::cuda
