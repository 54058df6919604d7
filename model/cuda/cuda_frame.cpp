#include "model/cuda/cuda_frame.hpp"

namespace continuo::model::cuda {

CudaFrame::CudaFrame(CudaDepthformer& lm, CudaSpectroStreamDecoder& codec)
    : lm_(lm), codec_(codec), stepped_(make_event()), decoded_(make_event()) {
  graph_ = capture(lm_.stream(), [this] { enqueue(); });
}

// The decoder's launches wait for the step's codes and the Depthformer's stream for the
// decoded samples, so waiting on that one stream waits for both (in the graph: two edges).
void CudaFrame::enqueue() {
  lm_.enqueue_step();
  order_after(lm_.stream(), stepped_.get(), codec_.stream());
  codec_.enqueue_decode(lm_.device_codes());
  order_after(codec_.stream(), decoded_.get(), lm_.stream());
}

FrameCodes CudaFrame::step(const FrameConditioning& conditioning, const SamplingParams& params, std::span<float> out,
                           Launch launch) {
  codec_.check_output(out);
  lm_.stage_step(conditioning, params);
  codec_.stage_decode(nullptr);
  if (launch == Launch::graph) {
    CONTINUO_CUDA_CHECK(cudaGraphLaunch(graph_.get(), lm_.stream()));
  } else {
    enqueue();
  }
  // The generator waits on the Depthformer's stream only: the staged values may change again.
  CONTINUO_CUDA_CHECK(cudaStreamSynchronize(lm_.stream()));
  codec_.finish_decode(out);
  return lm_.finish_step();
}

}  // namespace continuo::model::cuda
