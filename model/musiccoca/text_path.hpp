#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "model/musiccoca/graph.hpp"
#include "model/musiccoca/quantizer.hpp"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace continuo::model::musiccoca {

// MusicCoCa's text path (docs/musiccoca.md): SentencePiece ids -> text encoder graph ->
// embedding, which the Quantizer turns into tokens; from the files tools/musiccoca/convert.py
// writes. Not real-time: allocates; const methods may run concurrently.
class TextPath {
 public:
  // ModelFileError naming the file when the graph or the SentencePiece model will not load,
  // or the encoder does not take int32 ids [1, L] and give one embedding `quantizer` takes.
  static TextPath load(const std::filesystem::path& text_encoder, const std::filesystem::path& spm,
                       const Quantizer& quantizer);
  TextPath(TextPath&&) noexcept;
  TextPath& operator=(TextPath&&) noexcept;
  ~TextPath();

  std::size_t length() const { return length_; }  // ids the encoder takes

  // SentencePiece ids cut to length(), padded with the vocabulary's pad id (0 without one).
  std::vector<std::int32_t> ids(std::string_view text) const;
  std::vector<float> embed(std::string_view text) const;

 private:
  TextPath(Graph encoder, std::unique_ptr<sentencepiece::SentencePieceProcessor> spm, const std::string& name,
           const Quantizer& quantizer);

  Graph encoder_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> spm_;
  std::size_t length_ = 0;
};

}  // namespace continuo::model::musiccoca
