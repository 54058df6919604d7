#pragma once

#include <charconv>
#include <cmath>
#include <string>

namespace continuo {

// A number as a performer reads it in a refusal: shortest round-trip form, "nan", "inf".
inline std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

}  // namespace continuo
