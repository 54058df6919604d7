#include "engine/audio_prompts.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <utility>

#include "engine/audio_file.hpp"
#include "engine/controls.hpp"
#include "engine/log.hpp"
#include "engine/number_text.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;

// A prompt file is a clip, not an album: reading and embedding more would hold the worker
// for minutes.
constexpr double kMaxFileSeconds = 600.0;

}  // namespace

PromptFile resolve_prompt_file(const fs::path& dir, const std::string& name) {
  if (dir.empty()) return {{}, "no prompts directory: set prompts.dir in the config"};
  const fs::path relative(name);
  if (name.empty()) return {{}, "no file named"};
  if (relative.is_absolute()) return {{}, "'" + name + "' is an absolute path: name a file inside prompts.dir"};
  for (const fs::path& part : relative) {
    if (part == "..") return {{}, "'" + name + "' climbs out with '..': name a file inside prompts.dir"};
  }
  std::error_code error;
  const fs::path root = fs::canonical(dir, error);
  if (error) return {{}, "prompts.dir '" + dir.string() + "': " + error.message()};
  const fs::path file = fs::canonical(root / relative, error);
  if (error) return {{}, "'" + name + "' in prompts.dir: " + error.message()};
  // canonical() followed every link: what is left must still start with the directory.
  const auto [end, rest] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (end != root.end()) return {{}, "'" + name + "' leads outside prompts.dir (a symbolic link)"};
  if (!fs::is_regular_file(file, error)) return {{}, "'" + name + "' in prompts.dir is not a file"};
  return {file, {}};
}

std::vector<float> mix_to_mono(const std::vector<float>& interleaved, int channels) {
  const auto n = static_cast<std::size_t>(channels);
  std::vector<float> mono(interleaved.size() / n, 0.0f);
  for (std::size_t f = 0; f < mono.size(); ++f) {
    for (std::size_t c = 0; c < n; ++c) mono[f] += interleaved[f * n + c];
    mono[f] /= static_cast<float>(n);
  }
  return mono;
}

AudioPrompts::AudioPrompts(Controls& controls, const InputCapture* capture, std::function<int()> capture_rate,
                           fs::path prompts_dir, ResamplerQuality quality)
    : controls_(controls),
      capture_(capture),
      capture_rate_(std::move(capture_rate)),
      prompts_dir_(std::move(prompts_dir)),
      quality_(quality) {}

void AudioPrompts::close() { job_.close(); }

std::string AudioPrompts::check_encoder(int slot, std::shared_ptr<const StyleEncoder>& encoder) const {
  if (std::string why = PromptSlots::check_slot(slot); !why.empty()) return why;
  encoder = controls_.style_encoder();
  if (!encoder) return "this model has no style encoder (no text tower, no MusicCoCa): set /continuo/style/tokens instead";
  return encoder->audio_missing();
}

std::string AudioPrompts::start_live(int slot, double seconds, Done done) {
  std::shared_ptr<const StyleEncoder> encoder;
  if (std::string why = check_encoder(slot, encoder); !why.empty()) return why;
  const int rate = capture_rate_();
  const CaptureRequest request = capture_request(capture_, rate, seconds);
  if (!request.why.empty()) return request.why;
  return start(slot, "[audio live " + number_text(seconds) + " s]", [this, frames = request.frames, rate] {
    Heard heard{{}, static_cast<int>(InputCapture::kChannels), rate, {}};
    heard.why = read_capture(*capture_, frames, heard.samples);
    return heard;
  }, std::move(done));
}

std::string AudioPrompts::start_file(int slot, const std::string& path, Done done) {
  std::shared_ptr<const StyleEncoder> encoder;
  if (std::string why = check_encoder(slot, encoder); !why.empty()) return why;
  const PromptFile file = resolve_prompt_file(prompts_dir_, path);
  if (!file.why.empty()) return file.why;
  return start(slot, "[audio file " + path + "]", [file = file.path, path] {
    Heard heard;
    try {
      AudioClip clip = read_audio_file(file.string(), kMaxFileSeconds);
      heard = {std::move(clip.samples), clip.channels, clip.rate, {}};
    } catch (const std::runtime_error& error) {
      heard.why = error.what();
      return heard;
    }
    heard.why = input_level_problem(heard.samples, "'" + path + "'");
    return heard;
  }, std::move(done));
}

std::string AudioPrompts::start(int slot, std::string label, std::function<Heard()> hear, Done done) {
  return job_.start(
      [this, slot, label = std::move(label), hear = std::move(hear)] {
        std::string why;
        std::shared_ptr<const StyleEncoder> encoder;
        try {
          why = check_encoder(slot, encoder);  // the model may have changed since the command
          const Heard heard = why.empty() ? hear() : Heard{};
          if (why.empty()) why = heard.why;
          if (why.empty()) why = embed(slot, label, heard, encoder);
        } catch (const std::exception& error) {
          why = error.what();
        }
        if (why.empty()) log_info("prompt ", slot, ": ", label);
        else log_warn("prompt ", slot, ": not ", label, ": ", why);
        return why;
      },
      std::move(done), "busy: another audio prompt is under way");
}

std::string AudioPrompts::embed(int slot, const std::string& label, const Heard& heard,
                                const std::shared_ptr<const StyleEncoder>& encoder) {
  std::vector<float> mono = mix_to_mono(heard.samples, heard.channels);
  if (heard.rate != StyleEncoder::kAudioRate) {
    std::vector<float> resampled;
    Resampler(heard.rate, StyleEncoder::kAudioRate, quality_, 1).process(mono, resampled);
    mono = std::move(resampled);
  }
  const auto started = std::chrono::steady_clock::now();
  AudioEmbedding embedding = encoder->embed_audio(mono);
  log_info("prompt ", slot, ": embedded ", number_text(static_cast<double>(mono.size()) / StyleEncoder::kAudioRate),
           " s of audio in ", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(),
           " ms");
  return controls_.set_prompt_audio(slot, label, std::move(embedding), encoder.get());
}

}  // namespace continuo
