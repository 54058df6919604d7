#pragma once

#include <cstddef>

namespace continuo::kernels {

// y = cap · tanh(x / cap), elementwise over n values; y may alias x.
// MRT2 caps the depth decoder's logits at 30 (MultivariateDecoder.Config.soft_cap_logits =
// 30.0 in mlx/model.py; applied in depthformer.py MultivariateDecoder.step_with_emits before
// sampling). Attention logits are not capped in MRT2 (attention_logits_soft_cap None).
struct SoftcapShape {
  std::size_t n = 0;
  float cap = 30.0f;
};

void softcap(const SoftcapShape& shape, const float* x, float* y);

}  // namespace continuo::kernels
