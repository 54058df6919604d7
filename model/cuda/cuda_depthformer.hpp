#pragma once

// The Depthformer's per-frame step on a CUDA device (issue 4, docs/cuda.md): the twin of
// model/depthformer.hpp built from the kernels' CUDA twins. At load every weight is uploaded
// once (as stored: bf16 stays bf16) and every device buffer allocated; the whole frame
// (control upload, conditioning encoder, temporal step, 12 depth steps with on-device
// sampling, codes download) is captured once as a CUDA graph and replayed each frame. The
// calling (generator) thread waits on the runtime's own stream only.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/depthformer.hpp"
#include "model/mrt2_types.hpp"

namespace continuo::model::cuda {

// How a frame's work reaches the device: replaying the captured graph (the runtime's way), or
// the same launches issued one by one (the reference the parity test holds the graph to).
enum class Launch : std::uint8_t { graph, direct };

class CudaDepthformer {
 public:
  // Why `config` cannot run on the CUDA twins (a sampler level wider than one block, an
  // attention head wider than the kernel's), or empty when it can.
  static std::string unsupported_reason(const DepthformerConfig& config);

  // Uploads the weights of `host`, the CPU Depthformer of the same package, which must
  // outlive this runtime: its configuration, weight views and conditioning checks are used,
  // never its state (a composition that already holds one shares it). Needs a CUDA device:
  // cuda::Error when none is usable, std::invalid_argument with unsupported_reason.
  explicit CudaDepthformer(const Depthformer& host);
  ~CudaDepthformer();
  CudaDepthformer(const CudaDepthformer&) = delete;
  CudaDepthformer& operator=(const CudaDepthformer&) = delete;

  const DepthformerConfig& config() const;

  // One frame, codes sampled on the device (seeded by params.seed, the frame counter and the
  // level: sample_seeded's draws). Throws std::out_of_range for bad conditioning, as the CPU.
  FrameCodes step(const FrameConditioning& conditioning, const SamplingParams& params,
                  Launch launch = Launch::graph);
  // The same frame keeping `forced` as its codes (teacher forcing); the sampler still runs
  // and last_sampled() tells what it drew.
  FrameCodes step_forced(const FrameConditioning& conditioning, const SamplingParams& params,
                         const FrameCodes& forced, Launch launch = Launch::graph);
  // step() in its pieces, for a graph that also decodes the frame (CudaFrame): stage the
  // host's values, enqueue the frame's launches on stream() (or capture them), and once the
  // stream has run them, count the frame and read its codes. device_codes() is where the
  // launches leave the 12 codes (level-relative) on the device.
  void stage_step(const FrameConditioning& conditioning, const SamplingParams& params);
  void enqueue_step();
  FrameCodes finish_step();
  cudaStream_t stream() const;
  const std::uint32_t* device_codes() const;

  // Forgets every K/V ring; the next frame's decoder input is SOS, the frame counter 0.
  void reset();
  // The CPU Mrt2Model's prefill, `frames` times Depthformer::encode(conditioning) +
  // set_previous(codes) + temporal_step(), from a second captured graph: the temporal rings
  // fill, no depth step runs, the frame counter stays; `codes` are the next frame's input.
  void prefill(const FrameConditioning& conditioning, const FrameCodes& codes, int frames);
  std::uint64_t frame() const;

  // The last frame's logits before the soft cap, [levels × codebook] (a download: for tests).
  std::vector<float> last_logits() const;
  // The codes the device sampler drew in the last frame (equal to step()'s result unless
  // the frame was forced).
  FrameCodes last_sampled() const;
  // Device memory held by weights (bytes as stored).
  std::size_t weight_bytes() const;

 private:
  struct Device;
  std::unique_ptr<Device> device_;
};

}  // namespace continuo::model::cuda
