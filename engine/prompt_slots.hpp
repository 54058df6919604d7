#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/style_encoder.hpp"

namespace continuo {

// The performer's prompts as numbered slots (TouchDesigner's /continuo/prompt/N/text,
// /N/weight and /N/audio address one each); /continuo/prompt and /continuo/prompts rewrite
// them all. A slot holds text or audio (an embedding, described by its text). The style is
// the blend of the slots with text and a weight above 0. Validation only: Controls applies
// the result. Not thread-safe.
class PromptSlots {
 public:
  static constexpr int kSlots = 8;
  static constexpr std::size_t kMaxTextBytes = 1024;

  // "" or why refused; a refusal changes nothing.
  std::string replace_all(const std::vector<WeightedPrompt>& prompts);
  std::string set_text(int slot, std::string text);  // slot 1..kSlots; a text slot from now on
  // slot 1..kSlots: an audio slot, `label` saying what was heard ("[audio live 10 s]").
  std::string set_audio(int slot, std::string label, AudioEmbedding embedding);
  // Empties the audio slots: their embeddings belong to the style encoder that made them.
  void drop_audio();
  std::string set_weight(int slot, float weight);     // slot 1..kSlots, weight >= 0

  // The slots in play, in slot order.
  std::vector<WeightedPrompt> active() const;
  // Every slot, in play or not (slot N at N - 1).
  const std::array<WeightedPrompt, kSlots>& all() const { return slots_; }

  // "" when `slot` is one of 1..kSlots, else why not.
  static std::string check_slot(int slot);

 private:
  static std::string check_text(const std::string& text);
  static std::string check_weight(float weight);

  std::array<WeightedPrompt, kSlots> slots_{};
};

}  // namespace continuo
