#include "model/streaming_conv.hpp"

#include <algorithm>

namespace continuo::model {

StreamingConv StreamingConv::load(const ModelPackage& package, const std::string& name, kernels::Conv2dShape shape,
                                  int groups) {
  return {shape, package.view(name + ".kernel"), package.view(name + ".bias"),
          std::vector<float>(kernels::conv2d_history_size(shape) * static_cast<std::size_t>(groups))};
}

void StreamingConv::run(int group, const float* x, float* scratch, float* y) {
  float* own = history.data() + static_cast<std::size_t>(group) * kernels::conv2d_history_size(shape);
  kernels::conv2d(shape, weight, bias, own, x, scratch, y);
}

void StreamingConv::reset() { std::ranges::fill(history, 0.0f); }

}  // namespace continuo::model
