#pragma once

#include <span>
#include <vector>

struct SRC_STATE_tag;

namespace continuo {

enum class ResamplerQuality { best, medium, fastest };

// Streaming band-limited sample-rate conversion (libsamplerate's sinc converters) for
// interleaved audio, used when the model's rate differs from the JACK server's.
// Not real-time safe: it runs on the generator thread.
class Resampler {
 public:
  Resampler(int from_rate, int to_rate, ResamplerQuality quality, int channels);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Converts the next block of the stream and appends the output frames to out.
  // Output lags input by the filter delay; nothing is dropped between calls.
  void process(std::span<const float> interleaved_in, std::vector<float>& out);

  double ratio() const { return ratio_; }

 private:
  SRC_STATE_tag* state_ = nullptr;
  double ratio_;
  int channels_;
};

}  // namespace continuo
