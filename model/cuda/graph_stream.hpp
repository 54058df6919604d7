#pragma once

// What the CUDA runtimes of model/cuda/ share around their kernels: a stream of their own, a
// frame captured once as a graph and replayed, and pinned host memory the graph's first and
// last nodes copy from and to (so each replay reads the values staged just before it).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

#include "kernels/cuda/cuda.hpp"

namespace continuo::model::cuda {

// Pinned host memory for `count` values of T (value-initialised), freed on destruction.
template <typename T>
class Pinned {
 public:
  explicit Pinned(std::size_t count = 1) : count_(count) {
    static_assert(std::is_trivially_destructible_v<T>);
    void* p = nullptr;
    CONTINUO_CUDA_CHECK(cudaMallocHost(&p, count * sizeof(T)));
    values_ = static_cast<T*>(p);
    for (std::size_t i = 0; i < count; ++i) new (values_ + i) T{};
  }
  ~Pinned() { cudaFreeHost(values_); }
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  T* get() const { return values_; }
  std::span<T> span() const { return {values_, count_}; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* values_ = nullptr;
  std::size_t count_ = 0;
};

struct StreamDeleter {
  void operator()(cudaStream_t stream) const { cudaStreamDestroy(stream); }
};
struct EventDeleter {
  void operator()(cudaEvent_t event) const { cudaEventDestroy(event); }
};
struct GraphExecDeleter {
  void operator()(cudaGraphExec_t graph) const { cudaGraphExecDestroy(graph); }
};
using Stream = std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter>;
using Event = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, EventDeleter>;
using GraphExec = std::unique_ptr<std::remove_pointer_t<cudaGraphExec_t>, GraphExecDeleter>;

// A non-blocking stream, released with the runtime (also when its constructor throws half way).
Stream make_stream();

// An event that only orders streams (no timing).
Event make_event();

// What `waiting` is given next runs after what `done` was given so far, through `event`. In a
// capture this is an edge of the graph: the work on `waiting` joins the capture.
void order_after(cudaStream_t done, cudaEvent_t event, cudaStream_t waiting);

// Records `enqueue`'s launches on `stream` once: every replay runs them on the values then in
// device memory, so the graph never changes.
GraphExec capture(cudaStream_t stream, const std::function<void()>& enqueue);

// The device a runtime needs: cuda::Error naming why none is usable.
void require_device();

}  // namespace continuo::model::cuda
