// libFuzzer: a safetensors file's bytes. The header parser must accept them or throw
// ModelFileError; it never reads outside the span it is given (ASan checks).
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)continuo::model::parse_safetensors_header(std::as_bytes(std::span(data, size)), "fuzz.safetensors");
  } catch (const continuo::model::ModelFileError&) {
  }
  return 0;
}
