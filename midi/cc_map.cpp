#include "midi/cc_map.hpp"

#include <algorithm>
#include <cmath>

#include "midi/learn_file.hpp"

namespace continuo {

CcMap::CcMap(const std::vector<MidiCcMapping>& mappings, MidiTakeover takeover) : takeover_(takeover) {
  build(mappings);
}

void CcMap::bind(const MidiCcMapping& mapping) { build(with_learned(mappings(), {mapping})); }

std::vector<MidiCcMapping> CcMap::mappings() const {
  std::vector<MidiCcMapping> all;
  for (const Knob& knob : knobs_) all.push_back(knob.mapping);
  return all;
}

void CcMap::build(const std::vector<MidiCcMapping>& mappings) {
  knobs_.clear();
  by_cc_.fill(-1);
  is_lsb_.fill(false);
  for (const MidiCcMapping& mapping : mappings) {
    const int index = static_cast<int>(knobs_.size());
    Knob knob;
    knob.mapping = mapping;
    knobs_.push_back(knob);
    by_cc_[mapping.cc] = index;
    if (mapping.bits == 14) {
      by_cc_[mapping.cc + 32] = index;
      is_lsb_[mapping.cc + 32] = true;
    }
  }
}

std::optional<ParamChange> CcMap::control_change(int cc, int value) {
  if (!maps(cc) || value < 0 || value > 127) return std::nullopt;
  const auto k = static_cast<std::size_t>(by_cc_[cc]);
  Knob& knob = knobs_[k];
  if (knob.mapping.bits == 7) return move(k, value / 127.0);
  // MIDI 1.0: an MSB resets the LSB to 0; the LSB then refines it. An LSB before any
  // MSB has nothing to refine.
  if (!is_lsb_[cc]) {
    knob.msb = value;
    return move(k, (value << 7) / 16383.0);
  }
  if (knob.msb < 0) return std::nullopt;
  return move(k, ((knob.msb << 7) | value) / 16383.0);
}

std::optional<ParamChange> CcMap::move(std::size_t k, double position) {
  Knob& knob = knobs_[k];
  const MidiCcMapping& m = knob.mapping;
  double wanted = m.min + position * (m.max - m.min);
  if (midi_param_info(m.param).integer) wanted = std::round(wanted);
  const bool take = takes_over(knob, wanted);
  knob.last = wanted;
  if (!take) return std::nullopt;
  knob.picked_up = true;
  current_[index(m.param)] = wanted;
  // Other knobs on the same parameter now sit somewhere else: they must pick it up anew.
  for (std::size_t other = 0; other < knobs_.size(); ++other) {
    if (other != k && knobs_[other].mapping.param == m.param) knobs_[other].picked_up = false;
  }
  return ParamChange{m.param, wanted};
}

bool CcMap::takes_over(const Knob& knob, double wanted) const {
  const std::optional<double>& now = current_[index(knob.mapping.param)];
  if (takeover_ == MidiTakeover::none || knob.picked_up || !now) return true;
  const MidiCcMapping& m = knob.mapping;
  // A value the knob cannot reach is picked up at the nearest end of its range.
  const double target = std::clamp(*now, std::min(m.min, m.max), std::max(m.min, m.max));
  const double steps = m.bits == 14 ? 16383.0 : 127.0;
  const double close = std::max(std::abs(m.max - m.min) / steps, midi_param_info(m.param).integer ? 0.5 : 0.0);
  if (std::abs(wanted - target) <= close) return true;
  // Crossed between two messages: a fast turn skips values.
  return knob.last && ((*knob.last - target) * (wanted - target) <= 0.0);
}

void CcMap::sync(MidiParam param, double value) {
  current_[index(param)] = value;
  for (Knob& knob : knobs_) {
    if (knob.mapping.param == param) knob.picked_up = false;
  }
}

}  // namespace continuo
