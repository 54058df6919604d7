// libFuzzer: a config file. load_config must accept it or throw ConfigError naming where;
// any other exception, crash or sanitizer report is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/config.hpp"
#include "tests/fuzz/scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const continuo::fuzz::ScratchFile file("continuo-fuzz-config", "config.toml");
  file.write(data, size);
  try {
    (void)continuo::load_config(file.path(), {});
  } catch (const continuo::ConfigError&) {
  }
  return 0;
}
