#include "model/cuda/cuda_layers.hpp"

#include "kernels/dense/dense_cuda.hpp"
#include "kernels/rms_norm/rms_norm_cuda.hpp"

namespace continuo::model::cuda {
namespace {

// The ring's floats, or one (a never-read placeholder) so that an empty stack still gets a
// valid pointer.
std::size_t at_least_one(std::size_t n) { return n == 0 ? 1 : n; }

}  // namespace

kc::DeviceWeightView DeviceWeights::upload(const kernels::WeightView& view) {
  if (view.count == 0) return {};
  const std::size_t n = view.count * kernels::dtype_size(view.dtype);
  kc::DeviceBuffer<unsigned char>& buffer = buffers_.emplace_back(n);
  buffer.upload({static_cast<const unsigned char*>(view.data), n});
  bytes_ += n;
  return {buffer.data(), view.dtype, view.count};
}

const float* DeviceWeights::upload(const std::vector<float>& values) {
  const kc::DeviceWeightView view =
      upload(kernels::WeightView{values.data(), kernels::DType::f32, values.size()});
  return static_cast<const float*>(view.data);
}

const std::size_t* DeviceWeights::upload(std::span<const std::size_t> values) {
  const std::size_t n = values.size_bytes();
  kc::DeviceBuffer<unsigned char>& buffer = buffers_.emplace_back(n);
  buffer.upload({reinterpret_cast<const unsigned char*>(values.data()), n});
  bytes_ += n;
  return reinterpret_cast<const std::size_t*>(buffer.data());
}

DeviceAttentionLayer::DeviceAttentionLayer(const AttentionLayer& host, DeviceWeights& store)
    : dims(host.dims),
      source_dims(host.source_dims),
      heads(host.heads),
      head_dims(host.head_dims),
      pre_norm(store.upload(host.pre_norm)),
      q(store.upload(host.q)),
      k(store.upload(host.k)),
      v(store.upload(host.v)),
      o(store.upload(host.o)),
      post_norm(store.upload(host.post_norm)),
      sinks{store.upload(host.sinks.keys), store.upload(host.sinks.values), host.sinks.count},
      q_scale(store.upload(host.q_scale)) {}

DeviceFfnLayer::DeviceFfnLayer(const FfnLayer& host, DeviceWeights& store)
    : shape(host.shape),
      weights{store.upload(host.weights.w1), store.upload(host.weights.b1),
              store.upload(host.weights.w2), store.upload(host.weights.b2)},
      pre_norm(store.upload(host.pre_norm)),
      post_norm(store.upload(host.post_norm)) {}

DeviceKvCache::DeviceKvCache(std::size_t horizon, std::size_t heads, std::size_t head_dims)
    : keys(at_least_one(kernels::kv_ring_floats(horizon + 1, heads, head_dims))),
      values(at_least_one(kernels::kv_ring_floats(horizon + 1, heads, head_dims))),
      state(1),
      ring{keys.data(), values.data(), horizon + 1, heads, head_dims, state.data()} {}

DeviceBlockScratch::DeviceBlockScratch(std::size_t max_dims, std::size_t max_width,
                                       std::size_t max_ffn)
    : normed(max_dims),
      q(max_width),
      k(max_width),
      v(max_width),
      context(max_width),
      out(max_dims),
      ffn(at_least_one(max_ffn)) {}

void push_kv(cudaStream_t stream, const DeviceAttentionLayer& layer, const DeviceKvCache& cache,
             const float* source, DeviceBlockScratch& scratch) {
  const kernels::DenseShape shape{layer.source_dims, layer.width()};
  kc::dense(stream, shape, layer.k, {}, source, scratch.k.data());
  kc::dense(stream, shape, layer.v, {}, source, scratch.v.data());
  kc::kv_ring_push(stream, cache.ring, scratch.k.data(), scratch.v.data());
}

void attention_block(cudaStream_t stream, const DeviceAttentionLayer& layer,
                     const DeviceKvCache& cache, bool push_self, float eps, float* x,
                     DeviceBlockScratch& scratch) {
  const kernels::RmsNormShape norm{layer.dims, eps};
  kc::rms_norm(stream, norm, layer.pre_norm, x, scratch.normed.data());
  if (push_self) push_kv(stream, layer, cache, scratch.normed.data(), scratch);
  kc::dense(stream, {layer.dims, layer.width()}, layer.q, {}, scratch.normed.data(),
            scratch.q.data());
  kc::attend(stream, cache.ring, layer.sinks, scratch.q.data(), layer.q_scale,
             scratch.context.data());
  kc::dense(stream, {layer.width(), layer.dims}, layer.o, {}, scratch.context.data(),
            scratch.out.data());
  kc::rms_norm_residual(stream, norm, layer.post_norm, scratch.out.data(), x);
}

void ffn_block(cudaStream_t stream, const DeviceFfnLayer& layer, float eps, float* x,
               DeviceBlockScratch& scratch) {
  const kernels::RmsNormShape norm{layer.shape.model, eps};
  kc::rms_norm(stream, norm, layer.pre_norm, x, scratch.normed.data());
  kc::ffn(stream, layer.shape, layer.weights, scratch.normed.data(), scratch.ffn.data(),
          scratch.out.data());
  kc::rms_norm_residual(stream, norm, layer.post_norm, scratch.out.data(), x);
}

}  // namespace continuo::model::cuda
