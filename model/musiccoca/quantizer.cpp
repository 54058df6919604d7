#include "model/musiccoca/quantizer.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "model/safetensors.hpp"

namespace continuo::model::musiccoca {
namespace {

const GraphTensor& sole(const Graph& graph, const std::vector<int>& which, const std::string& name, const char* what) {
  if (which.size() != 1) throw ModelFileError(name + ": " + std::to_string(which.size()) + " " + what + "s, MusicCoCa's graphs have one");
  return graph.tensor(which[0]);
}

}  // namespace

const GraphTensor& sole_input(const Graph& graph, const std::string& name) { return sole(graph, graph.inputs(), name, "input"); }
const GraphTensor& sole_output(const Graph& graph, const std::string& name) { return sole(graph, graph.outputs(), name, "output"); }

Quantizer Quantizer::load(const std::filesystem::path& graph_toml) {
  return Quantizer(Graph::load(graph_toml), graph_toml.string() + " (quantizer)");
}

Quantizer::Quantizer(Graph graph, std::string name) : graph_(std::move(graph)), name_(std::move(name)) {
  const GraphTensor& taken = sole_input(graph_, name_);
  if (taken.type != Value::Type::f32) throw ModelFileError(name_ + ": input '" + taken.name + "' is not f32: it must take an embedding");
  dims_ = element_count(taken.shape);
  const GraphTensor& tokens = sole_output(graph_, name_);
  if (tokens.type != Value::Type::i32 || element_count(tokens.shape) != kStyleLevels) {
    throw ModelFileError(name_ + ": output '" + tokens.name + "' is " + format_dims(tokens.shape) + ", the style needs 12 int32 tokens");
  }
}

void Quantizer::check_takes(const GraphTensor& embedding, const std::string& encoder) const {
  if (embedding.type != Value::Type::f32 || element_count(embedding.shape) != dims_) {
    const GraphTensor& taken = graph_.tensor(graph_.inputs()[0]);
    throw ModelFileError(name_ + ": input '" + taken.name + "' " + format_dims(taken.shape) + " does not take the embedding " +
                         format_dims(embedding.shape) + " of " + encoder);
  }
}

StyleTokens Quantizer::quantize(std::span<const float> embedding) const {
  if (embedding.size() != dims_) {
    throw std::invalid_argument(name_ + ": takes " + std::to_string(dims_) + " values, given " + std::to_string(embedding.size()));
  }
  const GraphTensor& input = graph_.tensor(graph_.inputs()[0]);
  std::vector<Value> inputs;
  inputs.push_back(Value::floats(input.shape, std::vector<float>(embedding.begin(), embedding.end())));
  const Value tokens = graph_.run(std::move(inputs))[0];
  StyleTokens out{};
  for (std::size_t level = 0; level < kStyleLevels; ++level) out[level] = tokens.i[level];
  return out;
}

}  // namespace continuo::model::musiccoca
