// libFuzzer: a converted MusicCoCa graph file (model/musiccoca/graph.hpp). Graph::load must
// accept it or throw ModelFileError; a graph it accepts, when small, must run on zero inputs
// or throw std::invalid_argument: no op may read or write out of bounds whatever the shapes.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/musiccoca/graph.hpp"
#include "model/safetensors.hpp"
#include "tests/fuzz/scratch_file.hpp"

namespace {

using continuo::model::musiccoca::Graph;
using continuo::model::musiccoca::Value;

// Runs only graphs whose every tensor is at most this large: an op's operands are checked
// against the declared shapes, so no result exceeds kMaxElements² elements (64 MB).
constexpr std::size_t kMaxElements = 4096;

// w.safetensors beside the graph: constants "t0" [2] and "t1" [2, 3], for inputs that name them.
void write_weights(const continuo::fuzz::ScratchFile& file) {
  std::string header = R"({"t0":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("t1":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}})";
  while (header.size() % 8 != 0) header += ' ';
  const std::uint64_t length = header.size();
  std::ofstream out(file.dir() / "w.safetensors", std::ios::binary);
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << header;
  const std::vector<float> values{1, -2, 0.5f, 3, 4, -1, 2, 0};
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
}

void run_small(const Graph& graph) {
  for (std::size_t t = 0; t < graph.tensor_count(); ++t) {
    if (continuo::model::musiccoca::element_count(graph.tensor(static_cast<int>(t)).shape) > kMaxElements) return;
  }
  std::vector<Value> inputs;
  for (const int index : graph.inputs()) {
    const auto& tensor = graph.tensor(index);
    const std::size_t n = continuo::model::musiccoca::element_count(tensor.shape);
    inputs.push_back(tensor.type == Value::Type::f32 ? Value::floats(tensor.shape, std::vector<float>(n))
                                                     : Value::ints(tensor.shape, std::vector<std::int32_t>(n)));
  }
  try {
    (void)graph.run(std::move(inputs));
  } catch (const std::invalid_argument&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const continuo::fuzz::ScratchFile file("continuo-fuzz-graph", "g.graph.toml");
  static const bool weights_written = (write_weights(file), true);
  (void)weights_written;
  file.write(data, size);
  try {
    run_small(Graph::load(file.path()));
  } catch (const continuo::model::ModelFileError&) {
  }
  return 0;
}
