#pragma once

#include <array>
#include <span>
#include <string>

#include "engine/control_state.hpp"

namespace continuo {

struct WeightedPrompt {
  std::string text;
  float weight = 1.0f;

  bool operator==(const WeightedPrompt&) const = default;
};

// Text to the model's 12 style tokens: what a model with a text tower offers
// (model/text_tower, Model::text_style()). A blend is a weighted mean of the prompts'
// embeddings, quantized once. Not real-time: it allocates; called from control threads,
// never the generator or audio thread. Thread-safe.
class TextStyle {
 public:
  virtual ~TextStyle() = default;

  // std::invalid_argument with the reason when the prompts cannot be blended.
  virtual std::array<int, kStyleTokens> tokens(std::span<const WeightedPrompt> prompts) const = 0;
};

}  // namespace continuo
