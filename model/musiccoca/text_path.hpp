#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "model/musiccoca/graph.hpp"
#include "model/text_tower.hpp"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace continuo::model::musiccoca {

// MusicCoCa's text path (docs/musiccoca.md): SentencePiece ids -> text encoder graph ->
// embedding -> quantizer graph -> 12 tokens, from the files tools/musiccoca/convert.py writes.
// Not real-time: allocates; const methods may run concurrently.
class TextPath {
 public:
  // ModelFileError naming the file when a graph or the SentencePiece model will not load, or
  // the graphs do not fit together: the encoder must take int32 ids [1, L] and give one f32
  // embedding, which the quantizer must take and turn into 12 int32 tokens.
  static TextPath load(const std::filesystem::path& text_encoder, const std::filesystem::path& quantizer,
                       const std::filesystem::path& spm);
  TextPath(TextPath&&) noexcept;
  TextPath& operator=(TextPath&&) noexcept;
  ~TextPath();

  std::size_t length() const { return length_; }  // ids the encoder takes
  std::size_t dims() const { return dims_; }      // the embedding's width

  // SentencePiece ids cut to length(), padded with the vocabulary's pad id (0 without one).
  std::vector<std::int32_t> ids(std::string_view text) const;
  std::vector<float> embed(std::string_view text) const;
  StyleTokens quantize(std::span<const float> embedding) const;

 private:
  TextPath(Graph encoder, Graph quantizer, std::unique_ptr<sentencepiece::SentencePieceProcessor> spm,
           const std::filesystem::path& encoder_file, const std::filesystem::path& quantizer_file);

  Graph encoder_, quantizer_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> spm_;
  std::size_t length_ = 0, dims_ = 0;
};

}  // namespace continuo::model::musiccoca
