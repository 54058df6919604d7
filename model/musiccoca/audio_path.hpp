#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "model/musiccoca/graph.hpp"
#include "model/musiccoca/quantizer.hpp"

namespace continuo::model::musiccoca {

// MusicCoCa's audio path (docs/musiccoca.md): 16 kHz mono samples -> audio preprocessor graph
// (waveform -> spectrogram features) -> music encoder graph -> embedding, which the Quantizer
// turns into tokens; from the files tools/musiccoca/convert.py writes. Not real-time:
// allocates; const methods may run concurrently.
class AudioPath {
 public:
  static constexpr int kSampleRate = 16000;

  // ModelFileError naming the file when a graph will not load or they do not fit together:
  // the preprocessor must take one f32 waveform [S] or [1, S] and give features the encoder
  // takes (as many values), whose one output must be an embedding `quantizer` takes.
  static AudioPath load(const std::filesystem::path& preprocessor, const std::filesystem::path& encoder,
                        const Quantizer& quantizer);

  std::size_t window() const { return window_; }  // samples one run of the graphs takes

  // The embedding of one window() of samples (std::invalid_argument for another length).
  std::vector<float> embed_window(std::span<const float> samples) const;
  // Of a clip of any length: the mean of the embeddings of its whole windows, counted back
  // from its end (a remainder at the start is left out); a clip shorter than one window is
  // padded with silence before it. std::invalid_argument for an empty clip.
  std::vector<float> embed(std::span<const float> samples) const;

 private:
  AudioPath(Graph preprocessor, Graph encoder, const std::string& preprocessor_name, const std::string& encoder_name,
            const Quantizer& quantizer);

  Graph preprocessor_, encoder_;
  std::size_t window_ = 0;
};

}  // namespace continuo::model::musiccoca
