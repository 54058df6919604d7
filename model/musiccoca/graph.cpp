#include "model/musiccoca/graph.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "model/musiccoca/graph_ops.hpp"
#include "model/safetensors.hpp"

namespace continuo::model::musiccoca {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormat = "continuo-graph-1";
constexpr std::size_t kMaxRank = 8;
constexpr std::array<std::pair<OpKind, const char*>, 24> kOpNames{{
    {OpKind::add, "ADD"}, {OpKind::sub, "SUB"}, {OpKind::mul, "MUL"}, {OpKind::div, "DIV"},
    {OpKind::squared_difference, "SQUARED_DIFFERENCE"}, {OpKind::mean, "MEAN"}, {OpKind::sum, "SUM"},
    {OpKind::rsqrt, "RSQRT"}, {OpKind::sqrt, "SQRT"}, {OpKind::tanh, "TANH"}, {OpKind::gelu, "GELU"},
    {OpKind::fully_connected, "FULLY_CONNECTED"}, {OpKind::batch_matmul, "BATCH_MATMUL"},
    {OpKind::softmax, "SOFTMAX"}, {OpKind::reshape, "RESHAPE"}, {OpKind::transpose, "TRANSPOSE"},
    {OpKind::gather, "GATHER"}, {OpKind::arg_min, "ARG_MIN"}, {OpKind::concatenation, "CONCATENATION"},
    {OpKind::maximum, "MAXIMUM"}, {OpKind::log, "LOG"}, {OpKind::pad, "PAD"}, {OpKind::strided_slice, "STRIDED_SLICE"},
    {OpKind::conv_2d, "CONV_2D"},
}};

// Reads one graph.toml; every failure names the file, the line and the key.
struct Reader {
  std::string file;

  [[noreturn]] void fail(const std::string& key, const toml::node* at, const std::string& problem) const {
    const auto line = at ? at->source().begin.line : 0;
    throw ModelFileError(file + (line ? ":" + std::to_string(line) : "") + ": " + key + ": " + problem);
  }

  const toml::node& need(const toml::table& table, const std::string& key, std::string_view name) const {
    const toml::node* node = table.get(name);
    if (node == nullptr) fail(key + "." + std::string(name), &table, "missing");
    return *node;
  }

  std::vector<std::int64_t> integers(const toml::node& node, const std::string& key) const {
    const toml::array* array = node.as_array();
    if (array == nullptr) fail(key, &node, "must be an array of integers");
    std::vector<std::int64_t> values;
    for (const toml::node& item : *array) {
      if (!item.is_integer()) fail(key, &item, "must be an array of integers");
      values.push_back(item.as_integer()->get());
    }
    return values;
  }

  std::string text(const toml::table& table, const std::string& key, std::string_view name) const {
    const toml::node& node = need(table, key, name);
    if (!node.is_string()) fail(key + "." + std::string(name), &node, "must be a string");
    return node.as_string()->get();
  }

  template <typename T>
  T option(const toml::table& table, const std::string& key, std::string_view name, T fallback) const {
    const toml::node* node = table.get(name);
    if (node == nullptr) return fallback;
    const std::optional<T> value = node->value<T>();
    if (!value) fail(key + "." + std::string(name), node, "has the wrong type");
    return *value;
  }
};

const toml::array& array_of_tables(const Reader& reader, const toml::table& root, std::string_view name) {
  const toml::node& node = reader.need(root, "graph", name);
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) reader.fail(std::string(name), &node, "must be an array of tables");
  return *array;
}

Value constant_floats(const Reader& reader, const SafetensorsFile& weights, const std::string& key, const toml::node& at,
                      const std::string& name, const Dims& shape) {
  if (!weights.contains(name)) reader.fail(key, &at, "constant '" + name + "' is not in " + weights.path());
  const TensorInfo& info = weights.info(name);
  if (Dims(info.shape.begin(), info.shape.end()) != shape) {
    reader.fail(key, &at, "constant '" + name + "' is " + format_shape(info.shape) + " in the weights, " + format_dims(shape) + " here");
  }
  const kernels::WeightView view = weights.view(name);
  std::vector<float> data(view.count);
  for (std::size_t n = 0; n < view.count; ++n) data[n] = view.at(n);
  return Value::floats(shape, std::move(data));
}

GraphTensor read_tensor(const Reader& reader, const toml::table& table, std::size_t index, const SafetensorsFile& weights) {
  const std::string key = "tensors[" + std::to_string(index) + "]";
  GraphTensor tensor;
  tensor.name = reader.text(table, key, "name");
  const std::string type = reader.text(table, key, "type");
  if (type != "f32" && type != "i32") reader.fail(key + ".type", table.get("type"), "\"" + type + "\" is not f32 or i32");
  tensor.type = type == "f32" ? Value::Type::f32 : Value::Type::i32;
  const toml::node& shape = reader.need(table, key, "shape");
  for (const std::int64_t d : reader.integers(shape, key + ".shape")) {
    if (d < 0 || d > (1 << 24)) reader.fail(key + ".shape", &shape, "dimension " + std::to_string(d) + " out of range");
    tensor.shape.push_back(static_cast<std::size_t>(d));
  }
  if (tensor.shape.size() > kMaxRank) reader.fail(key + ".shape", &shape, "more than 8 dimensions");
  if (const toml::node* values = table.get("values")) {
    if (tensor.type != Value::Type::i32) reader.fail(key + ".values", values, "inline values are for i32 tensors");
    std::vector<std::int32_t> data;
    for (const std::int64_t v : reader.integers(*values, key + ".values")) data.push_back(static_cast<std::int32_t>(v));
    if (data.size() != element_count(tensor.shape)) reader.fail(key + ".values", values, std::to_string(data.size()) + " values for shape " + format_dims(tensor.shape));
    tensor.constant = Value::ints(tensor.shape, std::move(data));
  } else if (const toml::node* name = table.get("constant")) {
    if (tensor.type != Value::Type::f32 || !name->is_string()) reader.fail(key + ".constant", name, "must name an f32 tensor of the weights file");
    tensor.constant = constant_floats(reader, weights, key + ".constant", *name, name->as_string()->get(), tensor.shape);
  }
  return tensor;
}

OpKind op_kind(const Reader& reader, const std::string& key, const toml::table& table) {
  const std::string kind = reader.text(table, key, "kind");
  for (const auto& [value, name] : kOpNames) {
    if (kind == name) return value;
  }
  reader.fail(key + ".kind", table.get("kind"), "op \"" + kind + "\" is not one continuo runs");
}

std::size_t expected_inputs(OpKind kind) {
  switch (kind) {
    case OpKind::rsqrt: case OpKind::sqrt: case OpKind::tanh: case OpKind::gelu: case OpKind::softmax: case OpKind::log: return 1;
    case OpKind::fully_connected: case OpKind::conv_2d: return 3;
    case OpKind::strided_slice: return 4;
    case OpKind::concatenation: return 0;  // any number, at least one
    default: return 2;
  }
}

// CONV_2D's geometry: strides and dilations 1..4096, padding "SAME" or "VALID".
Conv2d read_conv(const Reader& reader, const toml::table& table, const std::string& key) {
  const auto step = [&](std::string_view name) {
    const std::int64_t v = reader.option<std::int64_t>(table, key, name, 1);
    if (v < 1 || v > 4096) reader.fail(key + "." + std::string(name), table.get(name), std::to_string(v) + " is not 1..4096");
    return static_cast<std::size_t>(v);
  };
  Conv2d conv{step("stride_h"), step("stride_w"), step("dilation_h"), step("dilation_w"), false};
  const std::string padding = reader.option<std::string>(table, key, "padding", "VALID");
  if (padding != "SAME" && padding != "VALID") reader.fail(key + ".padding", table.get("padding"), "\"" + padding + "\" is not SAME or VALID");
  conv.same_padding = padding == "SAME";
  return conv;
}

}  // namespace

const char* op_name(OpKind kind) {
  for (const auto& [value, name] : kOpNames) {
    if (value == kind) return name;
  }
  return "?";
}

Graph Graph::load(const fs::path& graph_toml) {
  Graph graph;
  graph.file_ = graph_toml.string();
  const Reader reader{graph.file_};
  toml::table root;
  try {
    root = toml::parse_file(graph.file_);
  } catch (const toml::parse_error& error) {
    throw ModelFileError(graph.file_ + ":" + std::to_string(error.source().begin.line) + ": " + std::string(error.description()));
  }
  if (reader.text(root, "graph", "format") != kFormat) reader.fail("format", root.get("format"), "must be \"" + std::string(kFormat) + "\"");
  const std::string weights_name = reader.text(root, "graph", "weights");
  if (weights_name.find('/') != std::string::npos) reader.fail("weights", root.get("weights"), "must be a file name beside the graph");
  const SafetensorsFile weights = SafetensorsFile::open(graph_toml.parent_path() / weights_name);

  const toml::array& tensors = array_of_tables(reader, root, "tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) graph.tensors_.push_back(read_tensor(reader, *tensors.get(i)->as_table(), i, weights));
  const auto n = static_cast<std::int64_t>(graph.tensors_.size());
  std::vector<bool> written(graph.tensors_.size(), false);
  for (std::size_t i = 0; i < graph.tensors_.size(); ++i) written[i] = graph.tensors_[i].constant.has_value();
  const auto indices = [&](const toml::table& table, const std::string& key, std::string_view name) {
    std::vector<int> out;
    for (const std::int64_t v : reader.integers(reader.need(table, key, name), key + "." + std::string(name))) {
      if (v < -1 || v >= n) reader.fail(key + "." + std::string(name), table.get(name), "tensor " + std::to_string(v) + " out of range");
      out.push_back(static_cast<int>(v));
    }
    return out;
  };
  graph.inputs_ = indices(root, "graph", "inputs");
  graph.outputs_ = indices(root, "graph", "outputs");
  for (const int input : graph.inputs_) {
    if (input < 0 || written[static_cast<std::size_t>(input)]) reader.fail("inputs", root.get("inputs"), "tensor " + std::to_string(input) + " cannot be an input");
    written[static_cast<std::size_t>(input)] = true;
  }

  const toml::array& ops = array_of_tables(reader, root, "ops");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const toml::table& table = *ops.get(i)->as_table();
    const std::string key = "ops[" + std::to_string(i) + "]";
    GraphOp op;
    op.kind = op_kind(reader, key, table);
    op.inputs = indices(table, key, "inputs");
    const std::vector<int> outputs = indices(table, key, "outputs");
    const std::size_t arity = expected_inputs(op.kind);
    if (arity ? op.inputs.size() != arity : op.inputs.empty()) {
      reader.fail(key + ".inputs", table.get("inputs"), std::string(op_name(op.kind)) + " takes " + (arity ? std::to_string(arity) : "one or more") + " inputs");
    }
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      const int t = op.inputs[k];
      const bool optional_bias = (op.kind == OpKind::fully_connected || op.kind == OpKind::conv_2d) && k == 2;
      if (t < 0 ? !optional_bias : !written[static_cast<std::size_t>(t)]) {
        reader.fail(key + ".inputs", table.get("inputs"), "tensor " + std::to_string(t) + " is read before anything writes it");
      }
    }
    if (outputs.size() != 1 || outputs[0] < 0 || written[static_cast<std::size_t>(outputs[0])]) {
      reader.fail(key + ".outputs", table.get("outputs"), "must be one tensor no one else writes");
    }
    op.output = outputs[0];
    written[static_cast<std::size_t>(op.output)] = true;
    op.keep_dims = reader.option(table, key, "keep_dims", false);
    op.adj_x = reader.option(table, key, "adj_x", false);
    op.adj_y = reader.option(table, key, "adj_y", false);
    op.axis = static_cast<int>(reader.option<std::int64_t>(table, key, "axis", 0));
    op.beta = static_cast<float>(reader.option(table, key, "beta", 1.0));
    op.approximate = reader.option(table, key, "approximate", false);
    op.masks.begin = static_cast<std::int32_t>(reader.option<std::int64_t>(table, key, "begin_mask", 0));
    op.masks.end = static_cast<std::int32_t>(reader.option<std::int64_t>(table, key, "end_mask", 0));
    op.masks.shrink_axis = static_cast<std::int32_t>(reader.option<std::int64_t>(table, key, "shrink_axis_mask", 0));
    op.conv = read_conv(reader, table, key);
    graph.ops_.push_back(std::move(op));
  }
  for (const int output : graph.outputs_) {
    if (output < 0 || !written[static_cast<std::size_t>(output)]) reader.fail("outputs", root.get("outputs"), "tensor " + std::to_string(output) + " is never written");
  }
  return graph;
}

std::vector<Value> Graph::run(std::vector<Value> inputs) const {
  if (inputs.size() != inputs_.size()) {
    throw std::invalid_argument(file_ + ": takes " + std::to_string(inputs_.size()) + " inputs, given " + std::to_string(inputs.size()));
  }
  std::vector<Value> owned(tensors_.size());
  std::vector<const Value*> slots(tensors_.size(), nullptr);
  for (std::size_t t = 0; t < tensors_.size(); ++t) {
    if (tensors_[t].constant) slots[t] = &*tensors_[t].constant;
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const GraphTensor& declared = tensors_[static_cast<std::size_t>(inputs_[k])];
    if (inputs[k].type != declared.type || inputs[k].shape != declared.shape) {
      throw std::invalid_argument(file_ + ": input '" + declared.name + "' must be " + format_dims(declared.shape) + ", given " + format_dims(inputs[k].shape));
    }
    owned[static_cast<std::size_t>(inputs_[k])] = std::move(inputs[k]);
    slots[static_cast<std::size_t>(inputs_[k])] = &owned[static_cast<std::size_t>(inputs_[k])];
  }
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const GraphOp& op = ops_[i];
    const GraphTensor& declared = tensors_[static_cast<std::size_t>(op.output)];
    const std::string where = file_ + ": op " + std::to_string(i) + " (" + op_name(op.kind) + "): ";
    Value out;
    try {
      out = apply(op, slots);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(where + error.what());
    }
    if (out.type != declared.type || out.shape != declared.shape) {
      throw std::invalid_argument(where + "computes " + format_dims(out.shape) + ", the graph declares " + format_dims(declared.shape));
    }
    owned[static_cast<std::size_t>(op.output)] = std::move(out);
    slots[static_cast<std::size_t>(op.output)] = &owned[static_cast<std::size_t>(op.output)];
  }
  std::vector<Value> results;
  for (const int output : outputs_) results.push_back(*slots[static_cast<std::size_t>(output)]);
  return results;
}

Value Graph::apply(const GraphOp& op, const std::vector<const Value*>& slots) const {
  const auto in = [&](std::size_t k) -> const Value& { return *slots[static_cast<std::size_t>(op.inputs[k])]; };
  const auto ints = [&](std::size_t k) -> std::span<const std::int32_t> {
    if (in(k).type != Value::Type::i32) throw std::invalid_argument("input " + std::to_string(k) + " must be int32");
    return in(k).i;
  };
  switch (op.kind) {
    case OpKind::add: return binary(Binary::add, in(0), in(1));
    case OpKind::sub: return binary(Binary::sub, in(0), in(1));
    case OpKind::mul: return binary(Binary::mul, in(0), in(1));
    case OpKind::div: return binary(Binary::div, in(0), in(1));
    case OpKind::squared_difference: return binary(Binary::squared_difference, in(0), in(1));
    case OpKind::mean: return reduce(Reduce::mean, in(0), ints(1), op.keep_dims);
    case OpKind::sum: return reduce(Reduce::sum, in(0), ints(1), op.keep_dims);
    case OpKind::rsqrt: return unary(Unary::rsqrt, in(0));
    case OpKind::sqrt: return unary(Unary::sqrt, in(0));
    case OpKind::tanh: return unary(Unary::tanh, in(0));
    case OpKind::gelu: return unary(op.approximate ? Unary::gelu_tanh : Unary::gelu, in(0));
    case OpKind::fully_connected: return fully_connected(in(0), in(1), op.inputs[2] < 0 ? nullptr : &in(2));
    case OpKind::batch_matmul: return batch_matmul(in(0), in(1), op.adj_x, op.adj_y);
    case OpKind::softmax: return softmax(in(0), op.beta);
    // The converter keeps every shape static: the output's declared shape is the target.
    case OpKind::reshape: return reshape(in(0), tensors_[static_cast<std::size_t>(op.output)].shape);
    case OpKind::transpose: return transpose(in(0), ints(1));
    case OpKind::gather: return gather(in(0), in(1), op.axis);
    case OpKind::arg_min: {
      const std::span<const std::int32_t> axis = ints(1);
      if (axis.size() != 1) throw std::invalid_argument("the axis must be one value");
      return arg_min(in(0), axis[0]);
    }
    case OpKind::concatenation: {
      std::vector<const Value*> parts;
      for (const int t : op.inputs) parts.push_back(slots[static_cast<std::size_t>(t)]);
      return concatenation(parts, op.axis);
    }
    case OpKind::maximum: return binary(Binary::maximum, in(0), in(1));
    case OpKind::log: return unary(Unary::log, in(0));
    case OpKind::pad: return pad(in(0), in(1));
    case OpKind::strided_slice: return strided_slice(in(0), ints(1), ints(2), ints(3), op.masks);
    case OpKind::conv_2d: return conv_2d(in(0), in(1), op.inputs[2] < 0 ? nullptr : &in(2), op.conv);
  }
  throw std::invalid_argument("unknown op");
}

}  // namespace continuo::model::musiccoca
