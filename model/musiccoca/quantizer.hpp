#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "model/musiccoca/graph.hpp"
#include "model/text_tower.hpp"

namespace continuo::model::musiccoca {

// MusicCoCa's residual vector quantizer (pretrained_vector_quantizer.tflite, converted): an
// embedding -> 12 style tokens. The text path and the audio path both end here, so a blend of
// text and audio prompts is one weighted mean of embeddings, quantized once. Not real-time:
// allocates; quantize() may run concurrently.
class Quantizer {
 public:
  // ModelFileError naming the file when the graph will not load, or does not take one f32
  // embedding and give 12 int32 tokens.
  static Quantizer load(const std::filesystem::path& graph_toml);

  std::size_t dims() const { return dims_; }  // the embedding's width

  // ModelFileError naming `encoder` (a graph's file and role) when its output, the embedding
  // it gives, is not one this quantizer takes.
  void check_takes(const GraphTensor& embedding, const std::string& encoder) const;

  StyleTokens quantize(std::span<const float> embedding) const;

 private:
  Quantizer(Graph graph, std::string name);

  Graph graph_;
  std::string name_;  // "<file> (quantizer)"
  std::size_t dims_ = 0;
};

// The one input or output tensor of a graph of MusicCoCa's, which every one of them has;
// ModelFileError "<name>: 2 inputs, MusicCoCa's graphs have one" otherwise.
const GraphTensor& sole_input(const Graph& graph, const std::string& name);
const GraphTensor& sole_output(const Graph& graph, const std::string& name);

}  // namespace continuo::model::musiccoca
