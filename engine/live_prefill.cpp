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

void LivePrefill::close() {
  std::thread worker;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

void LivePrefill::use_encoder(std::shared_ptr<AudioEncoder> encoder) {
  const std::lock_guard lock(mutex_);
  encoder_ = std::move(encoder);
}

std::string LivePrefill::start(double seconds, Done done) {
  const std::lock_guard lock(mutex_);
  if (closed_) return "shutting down";
  if (capture_ == nullptr) return "input capture is off: set input.capture_seconds above 0 in the config";
  if (!encoder_) return "this model cannot take audio as context: it has no audio encoder (a SpectroStream encoder)";
  const int rate = capture_rate_();
  if (rate <= 0) return "no JACK sample rate yet: nothing captured";
  const double most = static_cast<double>(capture_->max_frames()) / rate;
  if (!(seconds > 0.0 && seconds <= most)) {
    return "seconds must be greater than 0 and at most " + number_text(most) + " (input.capture_seconds), got " +
           number_text(seconds);
  }
  const auto frames = static_cast<std::size_t>(std::lround(seconds * rate));
  const std::uint64_t captured = capture_->frames_written();
  if (captured < frames) {
    return "not enough input captured yet: " + number_text(static_cast<double>(captured) / rate) + " s of the " +
           number_text(seconds) + " s asked for";
  }
  if (busy_) return "busy: another prefill is under way";
  busy_ = true;
  std::thread finished = std::move(worker_);  // done with its prefill: it cleared busy_
  if (finished.joinable()) finished.join();
  worker_ = std::thread([this, frames, rate, encoder = encoder_, done = std::move(done)] {
    run(frames, rate, encoder, done);
  });
  return {};
}

void LivePrefill::run(std::size_t frames, int rate, const std::shared_ptr<AudioEncoder>& encoder, const Done& done) {
  std::string why;
  try {
    why = prefill(frames, rate, *encoder);
  } catch (const std::exception& error) {
    why = error.what();
  }
  if (why.empty()) {
    log_info("prefill: the model continues the last ", number_text(static_cast<double>(frames) / rate),
             " s of the input");
  } else {
    log_warn("prefill: not from the input: ", why);
  }
  {
    const std::lock_guard lock(mutex_);
    busy_ = false;
  }
  done(why);
}

std::string LivePrefill::prefill(std::size_t frames, int rate, AudioEncoder& encoder) {
  std::vector<float> audio;
  if (!capture_->copy_last(frames, audio)) return "the input could not be read: the capture ring was overwritten";
  std::string why = input_level_problem(audio);
  if (!why.empty()) return why;
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
