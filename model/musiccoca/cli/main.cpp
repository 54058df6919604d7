// continuo-musiccoca: runs converted MusicCoCa graphs on stdin, one input per line, for
// tools/musiccoca/convert.py, which compares them with ai-edge-litert before it writes a package.
//   text  TEXT_ENCODER QUANTIZER SPM        < prompts   -> "ids ...", "embedding ...", "tokens ..."
//   audio PREPROCESSOR ENCODER QUANTIZER    < clips     -> "embedding ...", "tokens ..."
// A clip is one window of 16 kHz mono samples as decimal numbers, separated by spaces.
#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "model/musiccoca/audio_path.hpp"
#include "model/musiccoca/quantizer.hpp"
#include "model/musiccoca/text_path.hpp"

namespace {

using namespace continuo::model::musiccoca;

void print_embedding_and_tokens(const std::vector<float>& embedding, const Quantizer& quantizer) {
  std::printf("embedding");
  for (const float v : embedding) std::printf(" %.9g", static_cast<double>(v));
  std::printf("\ntokens");
  for (const int t : quantizer.quantize(embedding)) std::printf(" %d", t);
  std::printf("\n");
}

void run_text(const char* encoder, const char* quantizer_file, const char* spm) {
  const Quantizer quantizer = Quantizer::load(quantizer_file);
  const TextPath path = TextPath::load(encoder, spm, quantizer);
  for (std::string line; std::getline(std::cin, line);) {
    std::printf("ids");
    for (const auto id : path.ids(line)) std::printf(" %d", id);
    std::printf("\n");
    print_embedding_and_tokens(path.embed(line), quantizer);
  }
}

void run_audio(const char* preprocessor, const char* encoder, const char* quantizer_file) {
  const Quantizer quantizer = Quantizer::load(quantizer_file);
  const AudioPath path = AudioPath::load(preprocessor, encoder, quantizer);
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream words(line);
    std::vector<float> clip;
    for (float sample = 0.0f; words >> sample;) clip.push_back(sample);
    if (!words.eof()) throw std::invalid_argument("a clip line holds something that is not a number");
    print_embedding_and_tokens(path.embed_window(clip), quantizer);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc != 5 || (mode != "text" && mode != "audio")) {
    std::cerr << "usage: continuo-musiccoca text TEXT_ENCODER.graph.toml QUANTIZER.graph.toml SPM_MODEL < prompts\n"
                 "       continuo-musiccoca audio PREPROCESSOR.graph.toml ENCODER.graph.toml QUANTIZER.graph.toml < clips\n";
    return 2;
  }
  try {
    if (mode == "text") run_text(argv[2], argv[3], argv[4]);
    else run_audio(argv[2], argv[3], argv[4]);
  } catch (const std::exception& error) {
    std::cerr << "continuo-musiccoca: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
