#pragma once

// The device twins of model/depthformer_layers.hpp: weights uploaded once, K/V rings whose
// position lives on the device, and the attention / FFN residual blocks as sequences of
// kernels/ launches on one stream (graph-safe: nothing allocated, copied or awaited).
#include <cstddef>
#include <vector>

#include "kernels/attention/attention_cuda.hpp"
#include "kernels/cuda/cuda.hpp"
#include "kernels/ffn/ffn_cuda.hpp"
#include "model/depthformer_layers.hpp"

namespace continuo::model::cuda {

namespace kc = kernels::cuda;

// Every weight of a model in device memory, as stored (bf16 stays bf16), uploaded at load.
class DeviceWeights {
 public:
  // Copies `view` to the device (synchronously); an absent view stays absent.
  kc::DeviceWeightView upload(const kernels::WeightView& view);
  // fp32 values computed at load (the attention query scale, channel offsets).
  const float* upload(const std::vector<float>& values);
  const std::size_t* upload(std::span<const std::size_t> values);
  std::size_t bytes() const { return bytes_; }

 private:
  std::vector<kc::DeviceBuffer<unsigned char>> buffers_;
  std::size_t bytes_ = 0;
};

struct DeviceAttentionLayer {
  std::size_t dims = 0, source_dims = 0, heads = 0, head_dims = 0;
  kc::DeviceWeightView pre_norm, q, k, v, o, post_norm;
  kc::DeviceAttentionSinks sinks;
  const float* q_scale = nullptr;

  DeviceAttentionLayer(const AttentionLayer& host, DeviceWeights& store);
  std::size_t width() const { return heads * head_dims; }
};

struct DeviceFfnLayer {
  kernels::FfnShape shape;
  kc::DeviceFfnWeights weights;
  kc::DeviceWeightView pre_norm, post_norm;

  DeviceFfnLayer(const FfnLayer& host, DeviceWeights& store);
};

// KvCache's twin: window = horizon + 1 slots in device memory, the position beside them.
struct DeviceKvCache {
  kc::DeviceBuffer<float> keys, values;
  kc::DeviceBuffer<kc::KvRingState> state;
  kc::DeviceKvRing ring;

  DeviceKvCache(std::size_t horizon, std::size_t heads, std::size_t head_dims);
};

// BlockScratch's twin, sized at load for the widest block of both stacks.
struct DeviceBlockScratch {
  kc::DeviceBuffer<float> normed, q, k, v, context, out, ffn;

  DeviceBlockScratch(std::size_t max_dims, std::size_t max_width, std::size_t max_ffn);
};

// Projects `source` into k and v and pushes them into the ring (push_kv's twin).
void push_kv(cudaStream_t stream, const DeviceAttentionLayer& layer, const DeviceKvCache& cache,
             const float* source, DeviceBlockScratch& scratch);

// x += post_norm(o · attend(q(pre_norm(x)), ring, sinks)), pushing pre_norm(x) first with
// push_self (attention_block's twin).
void attention_block(cudaStream_t stream, const DeviceAttentionLayer& layer,
                     const DeviceKvCache& cache, bool push_self, float eps, float* x,
                     DeviceBlockScratch& scratch);

// x += post_norm(ffn(pre_norm(x))) (ffn_block's twin).
void ffn_block(cudaStream_t stream, const DeviceFfnLayer& layer, float eps, float* x,
               DeviceBlockScratch& scratch);

}  // namespace continuo::model::cuda
