#include "engine/live_prefill.hpp"

#include <chrono>
#include <cmath>
#include <exception>
#include <utility>
#include <vector>

#include "engine/log.hpp"
#include "engine/number_text.hpp"

namespace continuo {

LivePrefill::LivePrefill(const InputCapture* capture, std::function<int()> capture_rate, Apply apply,
                         std::shared_ptr<AudioEncoder> encoder, ResamplerQuality quality)
    : capture_(capture),
      capture_rate_(std::move(capture_rate)),
      apply_(std::move(apply)),
      quality_(quality),
      encoder_(std::move(encoder)) {}

void LivePrefill::close() { job_.close(); }

void LivePrefill::use_encoder(std::shared_ptr<AudioEncoder> encoder) {
  const std::lock_guard lock(mutex_);
  encoder_ = std::move(encoder);
}

std::string LivePrefill::start(double seconds, Done done) {
  const std::lock_guard lock(mutex_);
  const int rate = capture_rate_();
  const CaptureRequest request = capture_request(capture_, rate, seconds);
  if (capture_ == nullptr) return request.why;  // capture off says the most
  if (!encoder_) return "this model cannot take audio as context: it has no audio encoder (a SpectroStream encoder)";
  if (!request.why.empty()) return request.why;
  return job_.start([this, frames = request.frames, rate, encoder = encoder_] { return run(frames, rate, *encoder); },
                    std::move(done), "busy: another prefill is under way");
}

std::string LivePrefill::run(std::size_t frames, int rate, AudioEncoder& encoder) {
  std::string why;
  try {
    why = prefill(frames, rate, encoder);
  } catch (const std::exception& error) {
    why = error.what();
  }
  if (why.empty()) {
    log_info("prefill: the model continues the last ", number_text(static_cast<double>(frames) / rate),
             " s of the input");
  } else {
    log_warn("prefill: not from the input: ", why);
  }
  return why;
}

std::string LivePrefill::prefill(std::size_t frames, int rate, AudioEncoder& encoder) {
  std::vector<float> audio;
  if (std::string why = read_capture(*capture_, frames, audio); !why.empty()) return why;
  if (rate != encoder.sample_rate()) {
    std::vector<float> resampled;
    Resampler(rate, encoder.sample_rate(), quality_, static_cast<int>(InputCapture::kChannels))
        .process(audio, resampled);
    audio = std::move(resampled);
  }
  const auto started = std::chrono::steady_clock::now();
  const std::vector<int> tokens = encoder.encode(audio);
  log_info("prefill: encoded ", number_text(static_cast<double>(frames) / rate), " s of input in ",
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(), " ms");
  return apply_(encoder, tokens);
}

}  // namespace continuo
