// libFuzzer: a package's model.toml. load_manifest must accept it or throw ModelFileError
// naming the file, line and key.
#include <cstddef>
#include <cstdint>

#include "model/package.hpp"
#include "tests/fuzz/scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const continuo::fuzz::ScratchFile file("continuo-fuzz-manifest", "model.toml");
  file.write(data, size);
  try {
    (void)continuo::model::load_manifest(file.dir());
  } catch (const continuo::model::ModelFileError&) {
  }
  return 0;
}
