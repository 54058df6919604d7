#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/config.hpp"

namespace continuo {

// A parameter value a knob asks for, in the parameter's own units (rounded for integer
// parameters such as top_k).
struct ParamChange {
  MidiParam param;
  double value;
};

// Turns control changes into parameter changes through midi.cc_map: linear ranges,
// 14-bit pairs (MSB on cc, LSB on cc + 32) and soft takeover. With takeover "pickup" a
// knob whose position disagrees with the parameter's value (set by the config, OSC, a
// preset or another knob) does nothing until it reaches or crosses that value, so turning
// it never makes the sound jump. Not thread-safe: one owner calls it.
class CcMap {
 public:
  CcMap(const std::vector<MidiCcMapping>& mappings, MidiTakeover takeover);

  // A control change (value 0..127) on the listened-to channel; the change it makes, if any.
  std::optional<ParamChange> control_change(int cc, int value);

  // The parameter now has this value from elsewhere: every knob on it must pick it up again.
  void sync(MidiParam param, double value);
  std::optional<double> current(MidiParam param) const { return current_[index(param)]; }

  bool maps(int cc) const { return cc >= 0 && cc < 128 && by_cc_[cc] >= 0; }
  std::optional<MidiParam> param_of(int cc) const {
    if (!maps(cc)) return std::nullopt;
    return knobs_[static_cast<std::size_t>(by_cc_[cc])].mapping.param;
  }

  // MIDI learn: mapping replaces whatever used its CC (a 14-bit pair goes entirely). The
  // parameters' values stay known, so the new knob picks them up like any other.
  void bind(const MidiCcMapping& mapping);
  std::vector<MidiCcMapping> mappings() const;

 private:
  struct Knob {
    MidiCcMapping mapping;
    int msb = -1;                      // 14-bit: the last MSB (-1: none yet, LSBs are ignored)
    std::optional<double> last;        // the value the knob asked for last time
    bool picked_up = false;
  };

  static std::size_t index(MidiParam param) { return static_cast<std::size_t>(param); }
  void build(const std::vector<MidiCcMapping>& mappings);
  std::optional<ParamChange> move(std::size_t knob, double position);  // position 0..1
  bool takes_over(const Knob& knob, double wanted) const;

  std::vector<Knob> knobs_;
  std::array<int, 128> by_cc_{};     // knob index per CC number, -1 when unmapped
  std::array<bool, 128> is_lsb_{};   // the CC is the LSB of a 14-bit pair
  MidiTakeover takeover_;
  std::array<std::optional<double>, std::size(kMidiParams)> current_{};
};

}  // namespace continuo
