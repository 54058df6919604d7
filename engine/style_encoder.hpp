#pragma once

#include <array>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/control_state.hpp"

namespace continuo {

// An audio prompt's embedding (StyleEncoder::embed_audio): shared, never changed, so slots
// and blends copy it for free.
using AudioEmbedding = std::shared_ptr<const std::vector<float>>;

struct WeightedPrompt {
  std::string text;  // a text prompt; for an audio prompt, what it was ("[audio live 10 s]")
  float weight = 1.0f;
  AudioEmbedding audio = nullptr;  // an audio prompt's embedding, from the encoder in use; none: text

  bool operator==(const WeightedPrompt&) const = default;
};

// Prompts to the model's 12 style tokens: the model's text tower (model/text_tower) or
// MusicCoCa (model/musiccoca), Model::style_encoder(). A blend of text and audio prompts is
// the weighted mean of their embeddings, quantized once. Not real-time: it allocates; called
// from control threads and workers, never the generator or audio thread. Thread-safe.
class StyleEncoder {
 public:
  static constexpr int kAudioRate = 16000;  // embed_audio's samples: mono, 16 kHz

  virtual ~StyleEncoder() = default;

  // std::invalid_argument with the reason when the prompts cannot be blended.
  virtual std::array<int, kStyleTokens> tokens(std::span<const WeightedPrompt> prompts) const = 0;

  // "" when embed_audio works, else why not, in words for a /fail.
  virtual std::string audio_missing() const {
    return "this model's style encoder takes text only: audio prompts need a MusicCoCa package converted with its "
           "audio path (docs/models.md)";
  }
  // An audio prompt's embedding of mono samples at kAudioRate; std::invalid_argument when
  // the encoder has no audio path (audio_missing()) or cannot take them.
  virtual AudioEmbedding embed_audio(std::span<const float> samples) const {
    (void)samples;
    throw std::invalid_argument(audio_missing());
  }
};

}  // namespace continuo
