#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace continuo::osc {

// One OSC argument as received or sent. type is the OSC type tag; numbers keep both
// readings so a command can take an int where it expects a float and back.
struct Arg {
  char type = 'N';
  double number = 0.0;        // i h f d T F
  std::int64_t integer = 0;   // i h T F; f d when integral
  std::string text;           // s S

  static Arg int32(std::int32_t value);
  static Arg int64(std::int64_t value);
  static Arg float32(float value);
  static Arg string(std::string value);

  bool is_number() const;
};

struct Message {
  std::string address;
  std::vector<Arg> args;

  std::string types() const;  // the type tags, e.g. "ii"
};

}  // namespace continuo::osc
