#include <cmath>
#include <memory>

#include "engine/app.hpp"
#include "engine/audio_file.hpp"
#include "engine/cli.hpp"
#include "engine/control_script.hpp"
#include "engine/frame_source.hpp"
#include "engine/log.hpp"
#include "midi/controls_sink.hpp"
#include "midi/midi_file.hpp"
#include "midi/midi_input.hpp"

namespace continuo {
namespace {

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
      : offline_(control, static_cast<float>(config.engine.volume_db), model.style_encoder()),
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

}  // namespace

int render_offline(const Config& config, const ModelRegistry& registry, const Invocation& invocation) {
  const double seconds = invocation.seconds;
  const std::string& out_path = invocation.out_path;
  Steering steering = load_steering(invocation);
  const std::unique_ptr<Model> model = registry.load(config.model.spec, model_options(config.model));
  model->reset(config.model.seed);
  const int rate = config.render.sample_rate > 0 ? config.render.sample_rate : model->info().sample_rate;
  const auto total = static_cast<std::uint64_t>(std::llround(seconds * rate));
  ControlState control(config.control);
  SteeredSource source(*model, control, config, rate, std::move(steering));
  if (invocation.prompt) {
    const ControlResult why = source.controls().set_prompts({{*invocation.prompt, 1.0f}});
    if (!why.empty()) throw UsageError("--prompt: " + why);
  }
  log_info("render: ", seconds, " s of ", model->info().name, " at ", rate, " Hz to ", out_path);
  try {
    write_audio_file(out_path, rate, total, [&] { return source.next_frame(); }, "render");
  } catch (const std::exception& error) {
    log_error("render: ", error.what());
    return kExitFailure;
  }
  if (source.pending() > 0) log_info("render: ", source.pending(), " MIDI/control events lie past the end, not applied");
  log_info("render: wrote ", out_path);
  return 0;
}

}  // namespace continuo
