#include "model/musiccoca/graph_value.hpp"

#include <stdexcept>
#include <utility>

namespace continuo::model::musiccoca {

std::size_t element_count(const Dims& shape) {
  std::size_t n = 1;
  for (const std::size_t d : shape) n *= d;
  return n;
}

std::string format_dims(const Dims& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

Value Value::floats(Dims shape, std::vector<float> data) {
  if (data.size() != element_count(shape)) throw std::invalid_argument("a tensor of shape " + format_dims(shape) + " given " + std::to_string(data.size()) + " values");
  Value v;
  v.type = Type::f32;
  v.shape = std::move(shape);
  v.f = std::move(data);
  return v;
}

Value Value::ints(Dims shape, std::vector<std::int32_t> data) {
  if (data.size() != element_count(shape)) throw std::invalid_argument("a tensor of shape " + format_dims(shape) + " given " + std::to_string(data.size()) + " values");
  Value v;
  v.type = Type::i32;
  v.shape = std::move(shape);
  v.i = std::move(data);
  return v;
}

std::size_t Value::count() const { return element_count(shape); }

}  // namespace continuo::model::musiccoca
