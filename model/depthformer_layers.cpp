#include "model/depthformer_layers.hpp"

#include <algorithm>
#include <set>

namespace continuo::model {
namespace {

void grow(std::vector<float>& buffer, std::size_t size) {
  if (buffer.size() < size) buffer.resize(size);
}

}  // namespace

kernels::WeightView WeightBinder::bind(const std::string& name, Shape shape) {
  const bool usable = package_.contains(name) && package_.info(name).shape == shape;
  specs_.push_back({name, std::move(shape)});
  return usable ? package_.view(name) : kernels::WeightView{};
}

void WeightBinder::check() const {
  std::vector<TensorSpec> expected = specs_;
  const std::set<std::string> own = [&] {
    std::set<std::string> names;
    for (const auto& spec : specs_) names.insert(spec.name);
    return names;
  }();
  for (const auto& name : package_.names()) {
    if (name.starts_with("codec.") && !own.contains(name)) {
      expected.push_back({name, package_.info(name).shape});
    }
  }
  package_.check_tensors(expected);
}

AttentionLayer::AttentionLayer(WeightBinder& binder, const std::string& prefix,
                               const StackConfig& stack, std::size_t source)
    : dims(stack.dims),
      source_dims(source),
      heads(stack.heads),
      head_dims(stack.head_dims),
      q_scale(stack.head_dims) {
  const std::size_t flat = width();
  pre_norm = binder.bind(prefix + "pre_norm", {dims});
  q = binder.bind(prefix + "q", {flat, dims});
  k = binder.bind(prefix + "k", {flat, source_dims});
  v = binder.bind(prefix + "v", {flat, source_dims});
  const kernels::WeightView per_dim_scale = binder.bind(prefix + "per_dim_scale", {head_dims});
  o = binder.bind(prefix + "o", {dims, flat});
  post_norm = binder.bind(prefix + "post_norm", {dims});
  if (stack.sinks > 0) {
    sinks.keys = binder.bind(prefix + "sink_keys", {stack.sinks, heads, head_dims});
    sinks.values = binder.bind(prefix + "sink_values", {stack.sinks, heads, head_dims});
    sinks.count = stack.sinks;
  }
  kernels::query_scale(per_dim_scale, head_dims, q_scale.data());
}

FfnLayer::FfnLayer(WeightBinder& binder, const std::string& prefix, const StackConfig& stack)
    : shape{stack.dims, stack.ffn, false, kernels::Activation::gelu_tanh} {
  pre_norm = binder.bind(prefix + "pre_norm", {stack.dims});
  weights.w1 = binder.bind(prefix + "w1", {stack.ffn, stack.dims});
  weights.b1 = binder.bind(prefix + "b1", {stack.ffn});
  weights.w2 = binder.bind(prefix + "w2", {stack.dims, stack.ffn});
  weights.b2 = binder.bind(prefix + "b2", {stack.dims});
  post_norm = binder.bind(prefix + "post_norm", {stack.dims});
}

KvCache::KvCache(std::size_t horizon, std::size_t heads, std::size_t head_dims)
    : keys(kernels::kv_ring_floats(horizon + 1, heads, head_dims)),
      values(kernels::kv_ring_floats(horizon + 1, heads, head_dims)) {
  ring.keys = keys.data();
  ring.values = values.data();
  ring.window = horizon + 1;
  ring.heads = heads;
  ring.dim = head_dims;
}

void BlockScratch::reserve_for(const AttentionLayer& layer, const KvCache& cache) {
  grow(normed, std::max(layer.dims, layer.source_dims));
  for (auto* buffer : {&q, &k, &v, &context}) grow(*buffer, layer.width());
  grow(out, layer.dims);
  grow(attend, kernels::attend_scratch_size(cache.ring, layer.sinks));
}

void BlockScratch::reserve_for(const FfnLayer& layer) {
  grow(normed, layer.shape.model);
  grow(out, layer.shape.model);
  grow(ffn, kernels::ffn_scratch_size(layer.shape));
}

void push_kv(const AttentionLayer& layer, KvCache& cache, const float* source,
             BlockScratch& scratch) {
  const kernels::DenseShape shape{layer.source_dims, layer.width()};
  kernels::dense(shape, layer.k, {}, source, scratch.k.data());
  kernels::dense(shape, layer.v, {}, source, scratch.v.data());
  kernels::kv_ring_push(cache.ring, scratch.k.data(), scratch.v.data());
}

void attention_block(const AttentionLayer& layer, KvCache& cache, bool push_self, float eps,
                     float* x, BlockScratch& scratch) {
  const kernels::RmsNormShape norm{layer.dims, eps};
  kernels::rms_norm(norm, layer.pre_norm, x, scratch.normed.data());
  if (push_self) push_kv(layer, cache, scratch.normed.data(), scratch);
  kernels::dense({layer.dims, layer.width()}, layer.q, {}, scratch.normed.data(), scratch.q.data());
  kernels::attend(cache.ring, layer.sinks, scratch.q.data(), layer.q_scale.data(),
                  scratch.attend.data(), scratch.context.data());
  kernels::dense({layer.width(), layer.dims}, layer.o, {}, scratch.context.data(),
                 scratch.out.data());
  kernels::rms_norm_residual(norm, layer.post_norm, scratch.out.data(), x);
}

void ffn_block(const FfnLayer& layer, float eps, float* x, BlockScratch& scratch) {
  const kernels::RmsNormShape norm{layer.shape.model, eps};
  kernels::rms_norm(norm, layer.pre_norm, x, scratch.normed.data());
  kernels::ffn(layer.shape, layer.weights, scratch.normed.data(), scratch.ffn.data(),
               scratch.out.data());
  kernels::rms_norm_residual(norm, layer.post_norm, scratch.out.data(), x);
}

}  // namespace continuo::model
