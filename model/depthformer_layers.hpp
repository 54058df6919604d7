#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kernels/ops.hpp"
#include "model/depthformer_config.hpp"
#include "model/package.hpp"

namespace continuo::model {

// Looks tensors up by canonical name and records what was asked for, so the list of
// expected tensors and the loading code are one and the same (no second name table).
class WeightBinder {
 public:
  explicit WeightBinder(const ModelPackage& package) : package_(package) {}

  // The view of `name`; empty if the package lacks it or has another shape (check() then
  // refuses the package), so nothing is ever read past a misshapen tensor.
  kernels::WeightView bind(const std::string& name, Shape shape);
  // ModelPackage::check_tensors over everything bound, plus the package's codec.* tensors as
  // they are (another component's): names the first missing, extra or misshapen tensor.
  void check() const;
  const std::vector<TensorSpec>& specs() const { return specs_; }

 private:
  const ModelPackage& package_;
  std::vector<TensorSpec> specs_;
};

// One attention sub-block: pre_norm -> q/k/v -> attend (ring + sinks) -> o -> post_norm.
// Projections are dense [heads*head_dims, in] / o [dims, heads*head_dims].
struct AttentionLayer {
  std::size_t dims = 0, source_dims = 0, heads = 0, head_dims = 0;
  kernels::WeightView pre_norm, q, k, v, o, post_norm;
  kernels::AttentionSinks sinks;
  std::vector<float> q_scale;  // [head_dims], from per_dim_scale once at load

  // Binds "<prefix>pre_norm", "<prefix>q", ... (docs/models.md).
  AttentionLayer(WeightBinder& binder, const std::string& prefix, const StackConfig& stack,
                 std::size_t source_dims);
  std::size_t width() const { return heads * head_dims; }
};

struct FfnLayer {
  kernels::FfnShape shape;
  kernels::FfnWeights weights;
  kernels::WeightView pre_norm, post_norm;

  FfnLayer(WeightBinder& binder, const std::string& prefix, const StackConfig& stack);
};

// A K/V ring and its storage: window = horizon + 1 slots (the current frame + horizon past).
struct KvCache {
  std::vector<float> keys, values;
  kernels::KvRing ring;

  KvCache(std::size_t horizon, std::size_t heads, std::size_t head_dims);
  // Moving the vectors keeps their heap buffers, so the ring's pointers stay valid.
  KvCache(KvCache&&) noexcept = default;
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;
  KvCache& operator=(KvCache&&) = delete;
};

// Scratch shared by every block of both stacks, sized for the widest at construction.
struct BlockScratch {
  std::vector<float> normed, q, k, v, context, out, ffn;
  std::vector<float> attend;

  void reserve_for(const AttentionLayer& layer, const KvCache& cache);
  void reserve_for(const FfnLayer& layer);
};

// Projects `source` (already normalised by the caller when it is the block's own input)
// into k and v and pushes them into the ring: self-attention pushes its normed input,
// cross-attention the encoder output of the frame.
void push_kv(const AttentionLayer& layer, KvCache& cache, const float* source,
             BlockScratch& scratch);

// The attention residual block of the official transformers, for temporal self-, temporal
// cross- and depth self-attention alike:
//   x += post_norm(o · attend(q(pre_norm(x)), ring, sinks))
// With push_self, pre_norm(x) is first projected into the ring (self-attention).
void attention_block(const AttentionLayer& layer, KvCache& cache, bool push_self, float eps,
                     float* x, BlockScratch& scratch);

// x += post_norm(ffn(pre_norm(x))).
void ffn_block(const FfnLayer& layer, float eps, float* x, BlockScratch& scratch);

}  // namespace continuo::model
