#include "model/musiccoca/text_path.hpp"

#include <sentencepiece_processor.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "model/safetensors.hpp"

namespace continuo::model::musiccoca {

namespace fs = std::filesystem;

TextPath TextPath::load(const fs::path& text_encoder, const fs::path& spm, const Quantizer& quantizer) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  if (const auto status = processor->Load(spm.string()); !status.ok()) {
    throw ModelFileError(spm.string() + ": not a SentencePiece model: " + status.ToString());
  }
  return TextPath(Graph::load(text_encoder), std::move(processor), text_encoder.string() + " (text encoder)", quantizer);
}

TextPath::TextPath(Graph encoder, std::unique_ptr<sentencepiece::SentencePieceProcessor> spm, const std::string& name,
                   const Quantizer& quantizer)
    : encoder_(std::move(encoder)), spm_(std::move(spm)) {
  const GraphTensor& ids = sole_input(encoder_, name);
  if (ids.type != Value::Type::i32 || ids.shape.size() != 2 || ids.shape[0] != 1 || ids.shape[1] == 0) {
    throw ModelFileError(name + ": input '" + ids.name + "' is " + format_dims(ids.shape) + ", the text path needs int32 ids [1, L]");
  }
  length_ = ids.shape[1];
  quantizer.check_takes(sole_output(encoder_, name), name);
}

TextPath::TextPath(TextPath&&) noexcept = default;
TextPath& TextPath::operator=(TextPath&&) noexcept = default;
TextPath::~TextPath() = default;

std::vector<std::int32_t> TextPath::ids(std::string_view text) const {
  std::vector<int> pieces;
  if (const auto status = spm_->Encode(text, &pieces); !status.ok()) {
    throw std::invalid_argument("sentencepiece: " + status.ToString());
  }
  const int pad = spm_->pad_id() >= 0 ? spm_->pad_id() : 0;
  std::vector<std::int32_t> out(length_, pad);
  for (std::size_t n = 0; n < length_ && n < pieces.size(); ++n) out[n] = pieces[n];
  return out;
}

std::vector<float> TextPath::embed(std::string_view text) const {
  std::vector<Value> inputs;
  inputs.push_back(Value::ints({1, length_}, ids(text)));
  return std::move(encoder_.run(std::move(inputs))[0].f);
}

}  // namespace continuo::model::musiccoca
