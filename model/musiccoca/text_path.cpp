#include "model/musiccoca/text_path.hpp"

#include <sentencepiece_processor.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "model/safetensors.hpp"

namespace continuo::model::musiccoca {
namespace {

namespace fs = std::filesystem;

const GraphTensor& only(const Graph& graph, const std::vector<int>& which, const fs::path& file, const char* what) {
  if (which.size() != 1) throw ModelFileError(file.string() + ": " + std::to_string(which.size()) + " " + what + "s, the text path needs one");
  return graph.tensor(which[0]);
}

}  // namespace

TextPath TextPath::load(const fs::path& text_encoder, const fs::path& quantizer, const fs::path& spm) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  if (const auto status = processor->Load(spm.string()); !status.ok()) {
    throw ModelFileError(spm.string() + ": not a SentencePiece model: " + status.ToString());
  }
  return TextPath(Graph::load(text_encoder), Graph::load(quantizer), std::move(processor), text_encoder, quantizer);
}

TextPath::TextPath(Graph encoder, Graph quantizer, std::unique_ptr<sentencepiece::SentencePieceProcessor> spm,
                   const fs::path& encoder_file, const fs::path& quantizer_file)
    : encoder_(std::move(encoder)), quantizer_(std::move(quantizer)), spm_(std::move(spm)) {
  const std::string encoder_name = encoder_file.string() + " (text encoder)";
  const std::string quantizer_name = quantizer_file.string() + " (quantizer)";
  const GraphTensor& ids = only(encoder_, encoder_.inputs(), encoder_name, "input");
  if (ids.type != Value::Type::i32 || ids.shape.size() != 2 || ids.shape[0] != 1 || ids.shape[1] == 0) {
    throw ModelFileError(encoder_name + ": input '" + ids.name + "' is " + format_dims(ids.shape) + ", the text path needs int32 ids [1, L]");
  }
  length_ = ids.shape[1];
  const GraphTensor& embedding = only(encoder_, encoder_.outputs(), encoder_name, "output");
  dims_ = element_count(embedding.shape);
  const GraphTensor& taken = only(quantizer_, quantizer_.inputs(), quantizer_name, "input");
  if (embedding.type != Value::Type::f32 || taken.type != Value::Type::f32 || element_count(taken.shape) != dims_) {
    throw ModelFileError(quantizer_name + ": input '" + taken.name + "' " + format_dims(taken.shape) +
                         " does not take the text encoder's embedding " + format_dims(embedding.shape));
  }
  const GraphTensor& tokens = only(quantizer_, quantizer_.outputs(), quantizer_name, "output");
  if (tokens.type != Value::Type::i32 || element_count(tokens.shape) != kStyleLevels) {
    throw ModelFileError(quantizer_name + ": output '" + tokens.name + "' is " + format_dims(tokens.shape) + ", the style needs 12 int32 tokens");
  }
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

StyleTokens TextPath::quantize(std::span<const float> embedding) const {
  const GraphTensor& input = quantizer_.tensor(quantizer_.inputs()[0]);
  std::vector<Value> inputs;
  inputs.push_back(Value::floats(input.shape, std::vector<float>(embedding.begin(), embedding.end())));
  const Value tokens = quantizer_.run(std::move(inputs))[0];
  StyleTokens out{};
  for (std::size_t level = 0; level < kStyleLevels; ++level) out[level] = tokens.i[level];
  return out;
}

}  // namespace continuo::model::musiccoca
