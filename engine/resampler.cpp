#include "engine/resampler.hpp"

#include <samplerate.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace continuo {
namespace {

int converter_type(ResamplerQuality quality) {
  switch (quality) {
    case ResamplerQuality::best: return SRC_SINC_BEST_QUALITY;
    case ResamplerQuality::medium: return SRC_SINC_MEDIUM_QUALITY;
    case ResamplerQuality::fastest: return SRC_SINC_FASTEST;
  }
  return SRC_SINC_BEST_QUALITY;
}

std::string describe(int from_rate, int to_rate) {
  return "resampler " + std::to_string(from_rate) + " Hz -> " + std::to_string(to_rate) + " Hz";
}

}  // namespace

Resampler::Resampler(int from_rate, int to_rate, ResamplerQuality quality, int channels)
    : ratio_(from_rate > 0 && to_rate > 0 ? static_cast<double>(to_rate) / from_rate : 0.0), channels_(channels) {
  int error = 0;
  state_ = src_new(converter_type(quality), channels, &error);
  if (state_ == nullptr) throw std::runtime_error(describe(from_rate, to_rate) + ": " + src_strerror(error));
  // libsamplerate judges the ratio itself, so its message says which range is allowed.
  error = src_set_ratio(state_, ratio_);
  if (error != 0) {
    src_delete(state_);
    throw std::runtime_error(describe(from_rate, to_rate) + ": " + src_strerror(error));
  }
}

Resampler::~Resampler() { src_delete(state_); }

void Resampler::process(std::span<const float> interleaved_in, std::vector<float>& out) {
  const auto channels = static_cast<std::size_t>(channels_);
  const float* in = interleaved_in.data();
  long in_left = static_cast<long>(interleaved_in.size() / channels);
  while (in_left > 0) {
    const std::size_t start = out.size();
    // A little headroom over the exact ratio, so one call usually takes the whole block.
    const long room = static_cast<long>(std::ceil(static_cast<double>(in_left) * ratio_)) + 64;
    out.resize(start + static_cast<std::size_t>(room) * channels);
    SRC_DATA data{};
    data.data_in = in;
    data.input_frames = in_left;
    data.data_out = out.data() + start;
    data.output_frames = room;
    data.end_of_input = 0;
    data.src_ratio = ratio_;
    const int error = src_process(state_, &data);
    out.resize(start + static_cast<std::size_t>(data.output_frames_gen) * channels);
    if (error != 0) throw std::runtime_error("resampler (ratio " + std::to_string(ratio_) + "): " + src_strerror(error));
    if (data.input_frames_used == 0 && data.output_frames_gen == 0) {
      throw std::runtime_error("resampler: libsamplerate made no progress");
    }
    in += static_cast<std::size_t>(data.input_frames_used) * channels;
    in_left -= data.input_frames_used;
  }
}

}  // namespace continuo
