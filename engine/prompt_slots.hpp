#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/text_style.hpp"

namespace continuo {

// The performer's prompts as numbered slots (TouchDesigner's /continuo/prompt/N/text and
// /N/weight address one each); /continuo/prompt and /continuo/prompts rewrite them all.
// The style is the blend of the slots with text and a weight above 0. Validation only:
// Controls applies the result. Not thread-safe.
class PromptSlots {
 public:
  static constexpr int kSlots = 8;
  static constexpr std::size_t kMaxTextBytes = 1024;

  // "" or why refused; a refusal changes nothing.
  std::string replace_all(const std::vector<WeightedPrompt>& prompts);
  std::string set_text(int slot, std::string text);  // slot 1..kSlots
  std::string set_weight(int slot, float weight);     // slot 1..kSlots, weight >= 0

  // The slots in play, in slot order.
  std::vector<WeightedPrompt> active() const;
  // Every slot, in play or not (slot N at N - 1).
  const std::array<WeightedPrompt, kSlots>& all() const { return slots_; }

 private:
  static std::string check_text(const std::string& text);
  static std::string check_weight(float weight);
  static std::string check_slot(int slot);

  std::array<WeightedPrompt, kSlots> slots_{};
};

}  // namespace continuo
