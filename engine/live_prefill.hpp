#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "engine/input_capture.hpp"
#include "engine/job_thread.hpp"
#include "engine/model.hpp"
#include "engine/resampler.hpp"

namespace continuo {

// /continuo/prefill/live: the last seconds of the JACK inputs become the model's context,
// so generation continues what the performer played. On a worker thread of its own: copy
// them out of the capture ring, refuse silence or clipping, resample to the model's rate,
// encode (the expensive part, while the engine plays on), then hand the tokens to the
// generator, which resets the model to them at its next frame boundary with a fade as on
// /continuo/reset. One prefill at a time.
class LivePrefill {
 public:
  // Once the prefill ends, on the worker: "" when the context is in place, else why not.
  using Done = std::function<void(const std::string& why)>;
  // Blocks until the generator has answered (Generator::apply_context).
  using Apply = std::function<std::string(const AudioEncoder& from, std::span<const int> tokens)>;

  // capture: none when input.capture_seconds is 0. capture_rate: the JACK rate now (0: not
  // known yet). encoder: the playing model's (use_encoder below).
  LivePrefill(const InputCapture* capture, std::function<int()> capture_rate, Apply apply,
              std::shared_ptr<AudioEncoder> encoder, ResamplerQuality quality);
  ~LivePrefill() { close(); }  // before the members the job uses go
  LivePrefill(const LivePrefill&) = delete;
  LivePrefill& operator=(const LivePrefill&) = delete;

  // Refuses prefills from now on and waits for one under way (its done runs).
  void close();

  // The encoder of the model playing (Model::audio_encoder()); none refuses prefills.
  void use_encoder(std::shared_ptr<AudioEncoder> encoder);

  // "" when the prefill has started (done follows), else why not: seconds out of
  // (0, input.capture_seconds], capture off, no encoder, less audio captured than asked,
  // or another prefill under way.
  std::string start(double seconds, Done done);

 private:
  std::string run(std::size_t frames, int rate, AudioEncoder& encoder);  // logs what it did
  std::string prefill(std::size_t frames, int rate, AudioEncoder& encoder);

  const InputCapture* const capture_;
  const std::function<int()> capture_rate_;
  const Apply apply_;
  const ResamplerQuality quality_;
  std::mutex mutex_;  // guards encoder_
  std::shared_ptr<AudioEncoder> encoder_;
  JobThread job_;
};

}  // namespace continuo
