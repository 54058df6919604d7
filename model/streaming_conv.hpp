#pragma once

#include <string>
#include <vector>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/tensor.hpp"
#include "model/package.hpp"

namespace continuo::model {

// One stride-1 convolution of a SpectroStream stack (decoder or encoder) with its weights
// and the streaming history of each channel group, which share those weights.
struct StreamingConv {
  kernels::Conv2dShape shape;
  kernels::WeightView weight, bias;
  std::vector<float> history;  // one conv2d history per group

  // The tensors `<name>.kernel` and `<name>.bias` of the package.
  static StreamingConv load(const ModelPackage& package, const std::string& name, kernels::Conv2dShape shape,
                            int groups);
  void run(int group, const float* x, float* scratch, float* y);
  void reset();  // back to the official initial state: zero history
};

}  // namespace continuo::model
