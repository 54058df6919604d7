#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace continuo::model::musiccoca {

using Dims = std::vector<std::size_t>;

// A tensor flowing through a converted graph (docs/musiccoca.md): fp32 values, or int32
// (token ids, indices, the quantizer's tokens). Owns its data: graphs here are small and run
// off the real-time threads, so clarity beats reuse of buffers.
struct Value {
  enum class Type : std::uint8_t { f32, i32 };

  Type type = Type::f32;
  Dims shape;
  std::vector<float> f;          // when type == f32
  std::vector<std::int32_t> i;   // when type == i32

  static Value floats(Dims shape, std::vector<float> data);
  static Value ints(Dims shape, std::vector<std::int32_t> data);
  std::size_t count() const;  // product(shape)
};

std::size_t element_count(const Dims& shape);
std::string format_dims(const Dims& shape);  // "[2, 16, 16]"

}  // namespace continuo::model::musiccoca
