// continuo-musiccoca: runs a converted MusicCoCa text path on prompts read from stdin, one
// per line, and prints per prompt the lines "ids ...", "embedding ..." and "tokens ...".
// tools/musiccoca/convert.py compares them with ai-edge-litert before it writes a package.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "model/musiccoca/text_path.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: continuo-musiccoca TEXT_ENCODER.graph.toml QUANTIZER.graph.toml SPM_MODEL < prompts\n";
    return 2;
  }
  try {
    const auto path = continuo::model::musiccoca::TextPath::load(argv[1], argv[2], argv[3]);
    std::string line;
    while (std::getline(std::cin, line)) {
      std::printf("ids");
      for (const auto id : path.ids(line)) std::printf(" %d", id);
      const auto embedding = path.embed(line);
      std::printf("\nembedding");
      for (const float v : embedding) std::printf(" %.9g", static_cast<double>(v));
      std::printf("\ntokens");
      for (const int t : path.quantize(embedding)) std::printf(" %d", t);
      std::printf("\n");
    }
  } catch (const std::exception& error) {
    std::cerr << "continuo-musiccoca: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
