#pragma once

#include <cmath>
#include <optional>
#include <string>

#include "engine/controls.hpp"
#include "midi/midi_input.hpp"

namespace continuo {

// MidiInput's decisions applied to the engine's Controls, which validate them exactly as
// they do OSC's. Header-only: engine/run.cpp, which owns both, is its one user.
class ControlsSink final : public MidiSink {
 public:
  explicit ControlsSink(Controls& controls) : controls_(controls) {}

  std::string note(int pitch, int velocity) override { return controls_.note(pitch, velocity); }
  std::string clear_notes() override { return controls_.clear_notes(); }

  std::string set(MidiParam param, double value) override {
    const auto real = static_cast<float>(value);
    const auto whole = static_cast<int>(std::lround(value));
    switch (param) {
      case MidiParam::temperature: return controls_.set_temperature(real);
      case MidiParam::top_k: return controls_.set_top_k(whole);
      case MidiParam::cfg_style: return controls_.set_cfg_style(real);
      case MidiParam::cfg_notes: return controls_.set_cfg_notes(real);
      case MidiParam::cfg_drums: return controls_.set_cfg_drums(real);
      case MidiParam::drums: return controls_.set_drums(whole);
      case MidiParam::volume_db: return controls_.set_volume_db(real);
      case MidiParam::mute: return controls_.set_muted(whole != 0);
    }
    return "unknown parameter";
  }

  std::optional<Preset> preset(int program) override { return controls_.preset_for_program(program); }
  std::string recall(const Preset& preset) override { return controls_.recall_preset(preset); }

  std::optional<double> value(MidiParam param) override {
    if (param == MidiParam::volume_db) return controls_.volume_db();
    if (param == MidiParam::mute) return controls_.muted() ? 1.0 : 0.0;
    const ControlSnapshot c = controls_.snapshot();
    switch (param) {
      case MidiParam::temperature: return c.temperature;
      case MidiParam::top_k: return c.top_k;
      case MidiParam::cfg_style: return c.cfg_style;
      case MidiParam::cfg_notes: return c.cfg_notes;
      case MidiParam::cfg_drums: return c.cfg_drums;
      case MidiParam::drums: return c.drums;
      default: return std::nullopt;
    }
  }

 private:
  Controls& controls_;
};

}  // namespace continuo
