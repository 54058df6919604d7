#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/app.hpp"
#include "engine/cli.hpp"
#include "engine/control_script.hpp"
#include "engine/frame_source.hpp"
#include "engine/log.hpp"
#include "midi/controls_sink.hpp"
#include "midi/midi_file.hpp"
#include "midi/midi_input.hpp"

namespace continuo {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Written beside the target and renamed at the end, so a failed render never leaves a
// truncated file where the user's previous render was.
std::string partial_path(const std::string& out_path) { return out_path + ".partial"; }

SndfilePtr open_wav(const std::string& path, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) throw std::runtime_error("cannot write '" + path + "': " + sf_strerror(nullptr));
  // libsndfile's PEAK chunk carries the time of writing: without it the same render is the
  // same file, byte for byte.
  sf_command(file.get(), SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  return file;
}

class Progress {
 public:
  explicit Progress(std::uint64_t total) : total_(total) {}
  void update(std::uint64_t done, int rate) {
    const int percent = static_cast<int>(100 * done / total_);
    if (percent < next_percent_ && done < total_) return;
    next_percent_ = percent + 10;
    log_info("render: ", percent, "% (", static_cast<double>(done) / rate, " s), ", realtime_factor(done, rate),
             "x real time");
  }
  double realtime_factor(std::uint64_t done, int rate) const {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return wall > 0.0 ? static_cast<double>(done) / rate / wall : 0.0;
  }

 private:
  std::uint64_t total_;
  int next_percent_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// What steers a render, loaded and checked whole before the model loads, so bad input
// costs nothing and is reported as the usage error it is (exit 2).
struct Steering {
  std::vector<MidiFileEvent> midi;
  std::string control_path;
  std::vector<ControlCommand> script;
};

Steering load_steering(const Invocation& invocation) {
  Steering steering;
  steering.control_path = invocation.control_path;
  try {
    if (!invocation.midi_path.empty()) steering.midi = read_midi_file(invocation.midi_path).events;
    if (!invocation.control_path.empty()) steering.script = read_control_script(invocation.control_path);
  } catch (const MidiFileError& error) {
    throw UsageError(error.what());
  } catch (const ControlScriptError& error) {
    throw UsageError(error.what());
  }
  return steering;
}

// The model sample at which an event falls due. The small tolerance keeps tick-to-seconds
// rounding from pushing an event that lies exactly on a frame boundary to the next one.
std::uint64_t due_sample(double seconds, int rate) {
  return static_cast<std::uint64_t>(std::max(0.0, std::ceil(seconds * rate - 1e-6)));
}

// Applies each steering event at the first model frame boundary at or after its time, in
// time order (MIDI first on a tie). MIDI bytes go through MidiInput exactly as live JACK
// MIDI does (channel filter, sustain pedal, CC map with takeover); script lines go
// through the OSC address map. Both end in the same Controls.
class Steerer {
 public:
  Steerer(Steering steering, Controls& controls, const Config& config)
      : steering_(std::move(steering)), controls_(controls), sink_(controls), midi_(sink_, config.midi) {
    midi_.sync_all(config.control, config.engine.volume_db);  // knobs pick up from the config's values
  }

  void apply_due(std::uint64_t boundary, int rate) {
    for (;;) {
      const bool midi_due = next_midi_ < steering_.midi.size() && due_sample(steering_.midi[next_midi_].seconds, rate) <= boundary;
      const bool script_due =
          next_script_ < steering_.script.size() && due_sample(steering_.script[next_script_].seconds, rate) <= boundary;
      if (!midi_due && !script_due) return;
      if (midi_due && (!script_due || steering_.midi[next_midi_].seconds <= steering_.script[next_script_].seconds)) {
        const std::vector<std::uint8_t>& bytes = steering_.midi[next_midi_++].bytes;
        midi_.handle(bytes.data(), bytes.size());
      } else {
        apply_script(steering_.script[next_script_++]);
      }
    }
  }

  std::size_t pending() const { return steering_.midi.size() - next_midi_ + steering_.script.size() - next_script_; }

 private:
  // The dry run at load time accepted every line, so a refusal here is worth a warning only.
  void apply_script(const ControlCommand& command) {
    const std::string why = apply_control(command, controls_);
    if (!why.empty()) log_warn("render: ", steering_.control_path, ":", command.line, ": ", why);
  }

  Steering steering_;
  Controls& controls_;
  ControlsSink sink_;
  MidiInput midi_;  // never started: render calls handle() itself, on this thread
  std::size_t next_midi_ = 0;
  std::size_t next_script_ = 0;
};

// Volume and mute for render, where no Playback runs: a change glides over one frame to
// avoid a click. At unity gain the audio is passed through untouched, bit-exact.
class OutputGain {
 public:
  explicit OutputGain(float gain) : gain_(gain) {}

  std::span<const float> apply(std::span<const float> frame, float target) {
    if (gain_ == 1.0f && target == 1.0f) return frame;
    scaled_.resize(frame.size());
    const std::size_t frames = frame.size() / 2;
    const float step = (target - gain_) / static_cast<float>(std::max<std::size_t>(frames, 1));
    for (std::size_t i = 0; i < frames; ++i) {
      const float gain = gain_ + step * static_cast<float>(i + 1);
      scaled_[2 * i] = frame[2 * i] * gain;
      scaled_[2 * i + 1] = frame[2 * i + 1] * gain;
    }
    gain_ = target;
    return scaled_;
  }

 private:
  float gain_;
  std::vector<float> scaled_;
};

// FrameSource with render's steering: due events first, then one model step, then gain.
class SteeredSource {
 public:
  SteeredSource(Model& model, ControlState& control, const Config& config, int rate, Steering steering)
      : offline_(control, static_cast<float>(config.engine.volume_db), model.text_style()),
        source_(model, control, rate, config.engine.resampler),
        steerer_(std::move(steering), offline_.controls(), config),
        gain_(target_gain()),
        frame_samples_(model.info().frame_samples),
        model_rate_(model.info().sample_rate) {}

  std::span<const float> next_frame() {
    steerer_.apply_due(source_.frames() * static_cast<std::uint64_t>(frame_samples_), model_rate_);
    return gain_.apply(source_.next_frame(), target_gain());
  }

  std::size_t pending() const { return steerer_.pending(); }
  Controls& controls() { return offline_.controls(); }

 private:
  float target_gain() {
    Controls& controls = offline_.controls();
    return controls.muted() ? 0.0f : db_to_gain(controls.volume_db());
  }

  OfflineControls offline_;
  FrameSource source_;
  Steerer steerer_;
  OutputGain gain_;
  int frame_samples_;
  int model_rate_;
};

void render_frames(SteeredSource& source, SNDFILE* file, std::uint64_t total, int rate) {
  Progress progress(total);
  std::uint64_t written = 0;
  while (written < total) {
    const std::span<const float> frame = source.next_frame();
    const auto frames = std::min<std::uint64_t>(frame.size() / 2, total - written);
    if (sf_writef_float(file, frame.data(), static_cast<sf_count_t>(frames)) != static_cast<sf_count_t>(frames)) {
      throw std::runtime_error(std::string("write failed: ") + sf_strerror(file));
    }
    written += frames;
    progress.update(written, rate);
  }
}

}  // namespace

int render_offline(const Config& config, const ModelRegistry& registry, const Invocation& invocation) {
  const double seconds = invocation.seconds;
  const std::string& out_path = invocation.out_path;
  Steering steering = load_steering(invocation);
  const std::unique_ptr<Model> model = registry.load(config.model.spec, {config.model.prefill_frames, model_dirs(config.model.dir)});
  model->reset(config.model.seed);
  const int rate = config.render.sample_rate > 0 ? config.render.sample_rate : model->info().sample_rate;
  const auto total = static_cast<std::uint64_t>(std::llround(seconds * rate));
  ControlState control(config.control);
  SteeredSource source(*model, control, config, rate, std::move(steering));
  if (invocation.prompt) {
    const ControlResult why = source.controls().set_prompts({{*invocation.prompt, 1.0f}});
    if (!why.empty()) throw UsageError("--prompt: " + why);
  }
  const std::string partial = partial_path(out_path);
  try {
    SndfilePtr file = open_wav(partial, rate);
    log_info("render: ", seconds, " s of ", model->info().name, " at ", rate, " Hz to ", out_path);
    render_frames(source, file.get(), total, rate);
    if (sf_close(file.release()) != 0) throw std::runtime_error("cannot finish '" + partial + "'");
    std::filesystem::rename(partial, out_path);
  } catch (const std::exception& error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    log_error("render: ", error.what());
    return kExitFailure;
  }
  if (source.pending() > 0) log_info("render: ", source.pending(), " MIDI/control events lie past the end, not applied");
  log_info("render: wrote ", out_path);
  return 0;
}

}  // namespace continuo
