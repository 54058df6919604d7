#include "engine/prompt_slots.hpp"

#include <cmath>
#include <utility>

#include "engine/number_text.hpp"

namespace continuo {

std::string PromptSlots::check_text(const std::string& text) {
  if (text.size() > kMaxTextBytes) {
    return "prompt text of " + std::to_string(text.size()) + " bytes; at most " + std::to_string(kMaxTextBytes);
  }
  return {};
}

std::string PromptSlots::check_weight(float weight) {
  if (!std::isfinite(weight) || weight < 0.0f) return "prompt weight must be a finite number >= 0, got " + number_text(weight);
  return {};
}

std::string PromptSlots::check_slot(int slot) {
  if (slot < 1 || slot > kSlots) return "prompt slot must be 1.." + std::to_string(kSlots) + ", got " + std::to_string(slot);
  return {};
}

std::string PromptSlots::replace_all(const std::vector<WeightedPrompt>& prompts) {
  if (prompts.empty()) return "no prompt given";
  if (prompts.size() > kSlots) return std::to_string(prompts.size()) + " prompts; at most " + std::to_string(kSlots);
  for (const WeightedPrompt& p : prompts) {
    std::string why = check_text(p.text);
    if (why.empty()) why = check_weight(p.weight);
    if (!why.empty()) return why;
  }
  slots_ = {};
  std::copy(prompts.begin(), prompts.end(), slots_.begin());
  return {};
}

std::string PromptSlots::set_text(int slot, std::string text) {
  std::string why = check_slot(slot);
  if (why.empty()) why = check_text(text);
  if (why.empty()) {
    WeightedPrompt& p = slots_[static_cast<std::size_t>(slot - 1)];
    p.text = std::move(text);
    p.audio = nullptr;
  }
  return why;
}

std::string PromptSlots::set_audio(int slot, std::string label, AudioEmbedding embedding) {
  std::string why = check_slot(slot);
  if (why.empty()) {
    WeightedPrompt& p = slots_[static_cast<std::size_t>(slot - 1)];
    p.text = std::move(label);
    p.audio = std::move(embedding);
  }
  return why;
}

void PromptSlots::drop_audio() {
  for (WeightedPrompt& slot : slots_) {
    if (slot.audio) slot = WeightedPrompt{"", slot.weight, nullptr};
  }
}

std::string PromptSlots::set_weight(int slot, float weight) {
  std::string why = check_slot(slot);
  if (why.empty()) why = check_weight(weight);
  if (why.empty()) slots_[static_cast<std::size_t>(slot - 1)].weight = weight;
  return why;
}

std::vector<WeightedPrompt> PromptSlots::active() const {
  std::vector<WeightedPrompt> in_play;
  for (const WeightedPrompt& slot : slots_) {
    if (!slot.text.empty() && slot.weight > 0.0f) in_play.push_back(slot);
  }
  return in_play;
}

}  // namespace continuo
