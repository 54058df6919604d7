#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/musiccoca/graph_ops.hpp"
#include "model/musiccoca/graph_value.hpp"

namespace continuo::model::musiccoca {

// The op kinds a converted graph may hold: TFLite's builtin names, as the converter
// (tools/musiccoca/convert.py) writes them.
enum class OpKind : std::uint8_t {
  add, sub, mul, div, squared_difference, mean, sum, rsqrt, sqrt, tanh, gelu, fully_connected,
  batch_matmul, softmax, reshape, transpose, gather, arg_min, concatenation, maximum, log, pad, strided_slice, conv_2d
};

struct GraphTensor {
  std::string name;
  Value::Type type = Value::Type::f32;
  Dims shape;
  std::optional<Value> constant;
};

struct GraphOp {
  OpKind kind = OpKind::add;
  std::vector<int> inputs;  // tensor indices; -1: an optional input left out (a bias)
  int output = 0;
  // Options, each read only by the kinds that have it (docs/musiccoca.md).
  bool keep_dims = false;         // mean, sum
  bool adj_x = false, adj_y = false;  // batch_matmul
  int axis = 0;                   // gather, concatenation
  float beta = 1.0f;              // softmax
  bool approximate = false;       // gelu: the tanh form
  SliceMasks masks;               // strided_slice
  Conv2d conv;                    // conv_2d
};

// A TFLite graph converted to continuo's form: <stem>.graph.toml (tensors, ops in order) and
// the safetensors file it names (the f32 constants). Runs op by op on the CPU. Not
// real-time: allocates every tensor. run() is const and may run concurrently.
class Graph {
 public:
  // ModelFileError "<file>: <key or op>: <problem>" on anything malformed: unknown op
  // kinds, indices out of range, a tensor read before it is written, constants missing or
  // of the wrong shape.
  static Graph load(const std::filesystem::path& graph_toml);

  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  const GraphTensor& tensor(int index) const { return tensors_.at(static_cast<std::size_t>(index)); }
  std::size_t tensor_count() const { return tensors_.size(); }

  // std::invalid_argument when an input's type or shape is not the declared one, or an op
  // meets operands it cannot take (an index out of range, say); names the op.
  std::vector<Value> run(std::vector<Value> inputs) const;

 private:
  Value apply(const GraphOp& op, const std::vector<const Value*>& slots) const;

  std::string file_;
  std::vector<GraphTensor> tensors_;
  std::vector<GraphOp> ops_;
  std::vector<int> inputs_, outputs_;
};

const char* op_name(OpKind kind);  // "FULLY_CONNECTED"

}  // namespace continuo::model::musiccoca
