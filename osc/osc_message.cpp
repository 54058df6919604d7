#include "osc/osc_message.hpp"

#include <string_view>
#include <utility>

namespace continuo::osc {

Arg Arg::int32(std::int32_t value) { return {'i', static_cast<double>(value), value, {}}; }
Arg Arg::int64(std::int64_t value) { return {'h', static_cast<double>(value), value, {}}; }
Arg Arg::float32(float value) { return {'f', value, 0, {}}; }
Arg Arg::string(std::string value) { return {'s', 0.0, 0, std::move(value)}; }

bool Arg::is_number() const { return std::string_view("ihfdTF").find(type) != std::string_view::npos; }

std::string Message::types() const {
  std::string tags;
  for (const Arg& arg : args) tags += arg.type;
  return tags;
}

}  // namespace continuo::osc
