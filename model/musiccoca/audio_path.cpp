#include "model/musiccoca/audio_path.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "model/safetensors.hpp"

namespace continuo::model::musiccoca {

namespace fs = std::filesystem;

AudioPath AudioPath::load(const fs::path& preprocessor, const fs::path& encoder, const Quantizer& quantizer) {
  return AudioPath(Graph::load(preprocessor), Graph::load(encoder), preprocessor.string() + " (audio preprocessor)",
                   encoder.string() + " (music encoder)", quantizer);
}

AudioPath::AudioPath(Graph preprocessor, Graph encoder, const std::string& preprocessor_name,
                     const std::string& encoder_name, const Quantizer& quantizer)
    : preprocessor_(std::move(preprocessor)), encoder_(std::move(encoder)) {
  const GraphTensor& wave = sole_input(preprocessor_, preprocessor_name);
  const bool mono = wave.shape.size() == 1 || (wave.shape.size() == 2 && wave.shape[0] == 1);
  if (wave.type != Value::Type::f32 || !mono || wave.shape.back() == 0) {
    throw ModelFileError(preprocessor_name + ": input '" + wave.name + "' is " + format_dims(wave.shape) +
                         ", the audio path needs an f32 waveform [S] or [1, S]");
  }
  window_ = wave.shape.back();
  const GraphTensor& features = sole_output(preprocessor_, preprocessor_name);
  const GraphTensor& taken = sole_input(encoder_, encoder_name);
  if (features.type != Value::Type::f32 || taken.type != Value::Type::f32 || element_count(features.shape) != element_count(taken.shape)) {
    throw ModelFileError(encoder_name + ": input '" + taken.name + "' " + format_dims(taken.shape) +
                         " does not take the features " + format_dims(features.shape) + " of " + preprocessor_name);
  }
  quantizer.check_takes(sole_output(encoder_, encoder_name), encoder_name);
}

std::vector<float> AudioPath::embed_window(std::span<const float> samples) const {
  if (samples.size() != window_) {
    throw std::invalid_argument("musiccoca audio path: takes windows of " + std::to_string(window_) + " samples, given " +
                                std::to_string(samples.size()));
  }
  std::vector<Value> wave;
  wave.push_back(Value::floats(preprocessor_.tensor(preprocessor_.inputs()[0]).shape, {samples.begin(), samples.end()}));
  Value features = std::move(preprocessor_.run(std::move(wave))[0]);
  features.shape = encoder_.tensor(encoder_.inputs()[0]).shape;  // as many values: checked at load
  std::vector<Value> inputs;
  inputs.push_back(std::move(features));
  return std::move(encoder_.run(std::move(inputs))[0].f);
}

std::vector<float> AudioPath::embed(std::span<const float> samples) const {
  if (samples.empty()) throw std::invalid_argument("musiccoca audio path: no samples");
  if (samples.size() < window_) {
    std::vector<float> padded(window_ - samples.size(), 0.0f);
    padded.insert(padded.end(), samples.begin(), samples.end());
    return embed_window(padded);
  }
  const std::size_t windows = samples.size() / window_;
  std::vector<float> mean;
  for (std::size_t w = 0; w < windows; ++w) {
    const std::vector<float> one = embed_window(samples.subspan(samples.size() - (w + 1) * window_, window_));
    if (mean.empty()) mean.assign(one.size(), 0.0f);
    for (std::size_t d = 0; d < one.size(); ++d) mean[d] += one[d] / static_cast<float>(windows);
  }
  return mean;
}

}  // namespace continuo::model::musiccoca
