#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/input_capture.hpp"
#include "engine/job_thread.hpp"
#include "engine/resampler.hpp"
#include "engine/style_encoder.hpp"

namespace continuo {

class Controls;

// /continuo/prompt/N/audio: the last seconds of the JACK inputs, or a file in the prompts
// directory, as prompt slot N. On a worker thread of its own, while the engine plays on:
// read the audio, refuse silence or clipping, mix to mono, resample to the style encoder's
// 16 kHz, embed it (the expensive part), then hand the embedding to Controls, which blends
// it with the other slots and applies the tokens at the next frame boundary. One at a time.
class AudioPrompts {
 public:
  using Done = JobThread::Done;

  // capture: none when input.capture_seconds is 0. capture_rate: the JACK rate now (0: not
  // known yet). prompts_dir: prompts.dir ("": file prompts refused).
  AudioPrompts(Controls& controls, const InputCapture* capture, std::function<int()> capture_rate,
               std::filesystem::path prompts_dir, ResamplerQuality quality);
  ~AudioPrompts() { close(); }  // before the members the job uses go
  AudioPrompts(const AudioPrompts&) = delete;
  AudioPrompts& operator=(const AudioPrompts&) = delete;

  void close();  // refuses prompts from now on; waits for one under way

  // "" when started (done follows once, from the worker), else why not: the slot, a model
  // without an audio path, the seconds (as /continuo/prefill/live) or the file's path, or
  // another audio prompt under way.
  std::string start_live(int slot, double seconds, Done done);
  std::string start_file(int slot, const std::string& path, Done done);

 private:
  // The audio as interleaved samples of `channels` at `rate`, or why not (on the worker).
  struct Heard {
    std::vector<float> samples;
    int channels = 0;
    int rate = 0;
    std::string why;
  };
  std::string start(int slot, std::string label, std::function<Heard()> hear, Done done);
  std::string check_encoder(int slot, std::shared_ptr<const StyleEncoder>& encoder) const;
  std::string embed(int slot, const std::string& label, const Heard& heard, const std::shared_ptr<const StyleEncoder>& encoder);

  Controls& controls_;
  const InputCapture* const capture_;
  const std::function<int()> capture_rate_;
  const std::filesystem::path prompts_dir_;
  const ResamplerQuality quality_;
  JobThread job_;
};

// The file `name` names inside `dir`, or why it is refused: no directory configured, an
// absolute path, a '..', a symbolic link or anything else that resolves outside `dir`, or no
// such regular file.
struct PromptFile {
  std::filesystem::path path;
  std::string why;
};
PromptFile resolve_prompt_file(const std::filesystem::path& dir, const std::string& name);

// The average of the channels of interleaved audio.
std::vector<float> mix_to_mono(const std::vector<float>& interleaved, int channels);

}  // namespace continuo
