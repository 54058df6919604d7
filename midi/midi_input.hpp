#pragma once

#include <atomic>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/config.hpp"
#include "engine/control_state.hpp"
#include "midi/cc_map.hpp"
#include "midi/midi_parser.hpp"
#include "midi/midi_ring.hpp"

namespace continuo {

// Where MIDI's decisions go: the engine's Controls (midi/controls_sink.hpp) or a test's
// recorder. Each call returns "" when applied, else why it was refused.
class MidiSink {
 public:
  virtual ~MidiSink() = default;
  virtual std::string note(int pitch, int velocity) = 0;  // velocity 0: off
  virtual std::string clear_notes() = 0;
  virtual std::string set(MidiParam param, double value) = 0;
  // Program change: the preset with this program (0..127), or nullptr when none has it
  // (the message is then counted as ignored); recall applies it at one frame boundary.
  virtual std::optional<Preset> preset(int /*program*/) { return std::nullopt; }
  virtual std::string recall(const Preset& /*preset*/) { return "presets are not available"; }
  // The parameter's value in force now, whoever set it; nullopt when the sink cannot say.
  // Before a knob moves, MidiInput compares it with the value MIDI last knew: when OSC, a
  // preset or a control script changed it since, the knob must pick it up again.
  virtual std::optional<double> value(MidiParam /*param*/) { return std::nullopt; }
};

// Counters for the status line; every field only grows, except held_notes.
struct MidiStats {
  std::uint64_t events = 0;         // JACK MIDI events taken from the ring
  std::uint64_t messages = 0;       // complete MIDI messages parsed from them
  std::uint64_t notes_on = 0;
  std::uint64_t notes_off = 0;      // including velocity-0 note-ons and pedal releases
  std::uint64_t control_changes = 0;
  std::uint64_t params_set = 0;     // mapped CCs that changed a parameter
  std::uint64_t filtered = 0;       // channel messages on a channel not listened to
  std::uint64_t refused = 0;        // the sink said no
  std::uint64_t ignored = 0;        // parsed but not used: pitch bend, program change with no preset, clock...
  std::uint64_t dropped = 0;        // ring full, oversize events, stray data bytes, truncated messages
  std::uint64_t sysex = 0;          // SysEx skipped (whole events in the audio thread, or inside events)
  std::uint64_t presets = 0;        // program changes that recalled a preset
  std::vector<int> held_notes;      // sounding now: keys down or held by the sustain pedal

  // {"events":..,...,"held_notes":[60,64]}: the lead's hook for the engine status line.
  std::string to_json() const;
};

// The MIDI input: the JACK process callback pushes raw events into midi_ring(); this
// class's own (non-real-time) thread drains the ring every millisecond, parses the bytes
// and turns them into note and parameter changes on the sink:
//   note on/off (velocity 0 = off), sustain pedal (CC 64 holds released keys until the
//   pedal goes up), all notes off (CC 123) and all sound off (CC 120), reset all
//   controllers (CC 121: pedal up), channel filter (midi.channel), and every other CC
//   through midi.cc_map with soft takeover; program change recalls the preset with that
//   program ([[presets]]), and knobs pick its values up.
// The audio thread is never woken or waited on.
class MidiInput {
 public:
  MidiInput(MidiSink& sink, const MidiConfig& config, std::size_t ring_events = 1024);
  ~MidiInput();  // stops the thread
  MidiInput(const MidiInput&) = delete;
  MidiInput& operator=(const MidiInput&) = delete;

  // For JackClient::activate. Must outlive every JACK client that pushes into it.
  MidiRing& midi_ring() { return ring_; }

  void start();
  void stop();

  // A parameter changed elsewhere (config at start, OSC, presets): knobs on it must pick
  // it up again before they move it. Any thread. A sink that reports value() makes this
  // automatic: every change made outside MIDI is noticed at the knob's next move.
  void sync(MidiParam param, double value);
  // sync() for every mappable parameter from the values the engine starts with.
  void sync_all(const ControlSnapshot& control, double volume_db, bool muted = false);

  // Processes every event in the ring now; the thread's loop body. Tests call it directly
  // instead of start(). Returns the number of events processed.
  std::size_t drain();
  // One packet of raw MIDI bytes (one JACK event), as if it came through the ring.
  void handle(const std::uint8_t* bytes, std::size_t size);

  MidiStats stats() const;

  // MIDI learn. done(param, cc) is called once, on the MIDI thread with this object's lock
  // held, when the next CC moved (other than 64, 120, 121, 123) is bound to param; or
  // done(param, nullopt) when the arming is cancelled or replaced by another learn(). The
  // moved CC replaces any earlier binding of that CC; the bound knob sweeps the range the
  // config's first knob on param has (7-bit), else the parameter's whole range, and picks
  // the value up like any knob. With midi.learn_file set the learned knobs are written
  // there (atomically) after each bind. Returns "" when armed, else why not.
  using LearnDone = std::function<void(MidiParam param, std::optional<int> cc)>;
  std::string learn(const std::string& param, LearnDone done);
  bool cancel_learn();  // true when a learn was armed
  std::vector<MidiCcMapping> mappings() const;  // what the knobs do now, learned ones included

  // A reloaded midi.cc_map (SIGHUP): the knobs are remapped at once, learned knobs stay on
  // top, and the values each parameter is known to have carry over, so the new knobs pick
  // them up as takeover says. Any thread.
  void set_cc_map(const std::vector<MidiCcMapping>& cc_map);

 private:
  void bind_learned(int cc);
  void dispatch(const MidiMessage& message);
  void note_on(int pitch, int velocity);
  void note_off(int pitch);
  void control_change(int cc, int value);
  void program_change(int program);
  void resync(MidiParam param);
  void pedal(bool down);
  void all_notes_off();
  void check(const std::string& refused, const char* what, int number);

  MidiSink& sink_;
  MidiConfig config_;  // its cc_map under mutex_: set_cc_map replaces it
  MidiRing ring_;
  // Guards everything below. Held by the input thread for one packet at a time and by
  // sync() and stats() from other threads; the audio thread never takes it.
  mutable std::mutex mutex_;
  MidiParser parser_;
  CcMap map_;
  std::bitset<128> pressed_;
  std::bitset<128> sustained_;  // released while the pedal was down, still sounding
  bool pedal_down_ = false;
  MidiStats counts_;
  std::optional<MidiParam> learning_;
  LearnDone learn_done_;
  std::vector<MidiCcMapping> learned_;  // bound by learn, in order: the learn file's contents

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace continuo
