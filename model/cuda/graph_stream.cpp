#include "model/cuda/graph_stream.hpp"

namespace continuo::model::cuda {

namespace kc = kernels::cuda;

Stream make_stream() {
  cudaStream_t stream = nullptr;
  CONTINUO_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return Stream(stream);
}

Event make_event() {
  cudaEvent_t event = nullptr;
  CONTINUO_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  return Event(event);
}

void order_after(cudaStream_t done, cudaEvent_t event, cudaStream_t waiting) {
  CONTINUO_CUDA_CHECK(cudaEventRecord(event, done));
  CONTINUO_CUDA_CHECK(cudaStreamWaitEvent(waiting, event, 0));
}

GraphExec capture(cudaStream_t stream, const std::function<void()>& enqueue) {
  CONTINUO_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  cudaGraph_t graph = nullptr;
  try {
    enqueue();
  } catch (...) {
    cudaStreamEndCapture(stream, &graph);
    if (graph != nullptr) cudaGraphDestroy(graph);
    throw;
  }
  CONTINUO_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);  // the executable graph is independent of it
  CONTINUO_CUDA_CHECK(status);
  return GraphExec(exec);
}

void require_device() {
  const kc::Probe probe = kc::probe_devices();
  if (probe.devices == 0) throw kc::Error(cudaErrorNoDevice, "no usable CUDA device: " + probe.reason);
}

}  // namespace continuo::model::cuda
