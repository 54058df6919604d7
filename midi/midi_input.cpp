#include "midi/midi_input.hpp"

#include <chrono>

#include "engine/log.hpp"
#include "midi/learn_file.hpp"

namespace continuo {
namespace {

constexpr int kSustainPedal = 64;
constexpr int kAllSoundOff = 120;
constexpr int kResetAllControllers = 121;
constexpr int kAllNotesOff = 123;

}  // namespace

std::string MidiStats::to_json() const {
  std::string text = "{";
  const auto add = [&](const char* key, std::uint64_t value) {
    text += (text.size() > 1 ? ",\"" : "\"") + std::string(key) + "\":" + std::to_string(value);
  };
  add("events", events);
  add("messages", messages);
  add("notes_on", notes_on);
  add("notes_off", notes_off);
  add("control_changes", control_changes);
  add("params_set", params_set);
  add("filtered", filtered);
  add("refused", refused);
  add("ignored", ignored);
  add("dropped", dropped);
  add("sysex", sysex);
  add("presets", presets);
  text += ",\"held_notes\":[";
  for (std::size_t i = 0; i < held_notes.size(); ++i) text += (i ? "," : "") + std::to_string(held_notes[i]);
  return text + "]}";
}

MidiInput::MidiInput(MidiSink& sink, const MidiConfig& config, std::size_t ring_events)
    : sink_(sink), config_(config), ring_(ring_events), map_(config.cc_map, config.takeover) {
  if (config.learn_file.empty()) return;
  try {
    learned_ = read_learn_file(config.learn_file);
  } catch (const LearnFileError& error) {
    log_error("midi: ", error.what(), "; keeping midi.cc_map");
    return;
  }
  for (const MidiCcMapping& m : learned_) map_.bind(m);
  if (!learned_.empty()) log_info("midi: ", learned_.size(), " learned knob(s) from ", config.learn_file);
}

std::string MidiInput::learn(const std::string& param, LearnDone done) {
  const std::optional<MidiParam> found = midi_param_named(param);
  if (!found) {
    std::string names;
    for (const MidiParamInfo& info : kMidiParams) names += (names.empty() ? "" : ", ") + std::string(info.name);
    return "unknown parameter \"" + param + "\"; one of " + names;
  }
  LearnDone replaced;
  std::optional<MidiParam> was;
  {
    const std::lock_guard lock(mutex_);
    replaced = std::move(learn_done_);
    was = learning_;
    learning_ = found;
    learn_done_ = std::move(done);
  }
  if (was && replaced) replaced(*was, std::nullopt);
  return {};
}

bool MidiInput::cancel_learn() {
  LearnDone done;
  std::optional<MidiParam> was;
  {
    const std::lock_guard lock(mutex_);
    done = std::move(learn_done_);
    was = learning_;
    learning_.reset();
    learn_done_ = nullptr;
  }
  if (was && done) done(*was, std::nullopt);
  return was.has_value();
}

std::vector<MidiCcMapping> MidiInput::mappings() const {
  const std::lock_guard lock(mutex_);
  return map_.mappings();
}

void MidiInput::set_cc_map(const std::vector<MidiCcMapping>& cc_map) {
  const std::lock_guard lock(mutex_);
  CcMap next(cc_map, config_.takeover);
  for (const MidiCcMapping& m : learned_) next.bind(m);
  for (const MidiParamInfo& info : kMidiParams) {
    if (const std::optional<double> known = map_.current(info.param)) next.sync(info.param, *known);
  }
  map_ = std::move(next);
  config_.cc_map = cc_map;  // the ranges learn gives new knobs
}

void MidiInput::bind_learned(int cc) {
  const MidiParam param = *learning_;
  const MidiParamInfo& info = midi_param_info(param);
  MidiCcMapping m{cc, param, info.lo, info.hi, 7};
  for (const MidiCcMapping& c : config_.cc_map) {
    if (c.param == param) {
      m.min = c.min;
      m.max = c.max;
      break;
    }
  }
  map_.bind(m);
  learned_ = with_learned(learned_, {m});
  log_info("midi: learned CC ", cc, " -> ", info.name);
  if (!config_.learn_file.empty()) {
    try {
      write_learn_file(config_.learn_file, learned_);
    } catch (const LearnFileError& error) {
      log_error("midi: ", error.what());
    }
  }
  LearnDone done = std::move(learn_done_);
  learning_.reset();
  learn_done_ = nullptr;
  if (done) done(param, cc);
}

MidiInput::~MidiInput() { stop(); }

void MidiInput::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] {
    // Polls, as the generator does: the audio thread must never signal anyone. One
    // millisecond adds at most that to control latency, far below a model frame.
    while (!stop_.load(std::memory_order_relaxed)) {
      if (drain() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    drain();
  });
}

void MidiInput::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void MidiInput::sync(MidiParam param, double value) {
  const std::lock_guard lock(mutex_);
  map_.sync(param, value);
}

void MidiInput::sync_all(const ControlSnapshot& control, double volume_db, bool muted) {
  sync(MidiParam::temperature, control.temperature);
  sync(MidiParam::top_k, control.top_k);
  sync(MidiParam::cfg_style, control.cfg_style);
  sync(MidiParam::cfg_notes, control.cfg_notes);
  sync(MidiParam::cfg_drums, control.cfg_drums);
  sync(MidiParam::drums, control.drums);
  sync(MidiParam::volume_db, volume_db);
  sync(MidiParam::mute, muted ? 1.0 : 0.0);
}

std::size_t MidiInput::drain() {
  std::size_t count = 0;
  MidiEvent event;
  while (ring_.pop(event)) {
    handle(event.bytes.data(), event.size);
    ++count;
  }
  return count;
}

void MidiInput::handle(const std::uint8_t* bytes, std::size_t size) {
  const std::lock_guard lock(mutex_);
  ++counts_.events;
  for (std::size_t i = 0; i < size; ++i) {
    if (const auto message = parser_.feed(bytes[i])) dispatch(*message);
  }
  parser_.end_packet();
}

void MidiInput::dispatch(const MidiMessage& message) {
  if (!message.is_channel()) {
    ++counts_.ignored;  // clock, start/stop, song position: nothing here follows them yet
    return;
  }
  if (config_.channel != 0 && message.channel() != config_.channel) {
    ++counts_.filtered;
    return;
  }
  switch (message.kind()) {
    case 0x90:
      if (message.data2 > 0) {
        note_on(message.data1, message.data2);
        break;
      }
      [[fallthrough]];  // velocity 0 is a note off (running status senders rely on it)
    case 0x80:
      note_off(message.data1);
      break;
    case 0xB0:
      control_change(message.data1, message.data2);
      break;
    case 0xC0:
      program_change(message.data1);
      break;
    default:
      ++counts_.ignored;  // aftertouch, pitch bend
  }
}

void MidiInput::check(const std::string& refused, const char* what, int number) {
  if (refused.empty()) return;
  ++counts_.refused;
  log_debug("midi: ", what, " ", number, " refused: ", refused);
}

void MidiInput::note_on(int pitch, int velocity) {
  ++counts_.notes_on;
  pressed_.set(static_cast<std::size_t>(pitch));
  sustained_.reset(static_cast<std::size_t>(pitch));
  check(sink_.note(pitch, velocity), "note", pitch);
}

void MidiInput::note_off(int pitch) {
  const auto p = static_cast<std::size_t>(pitch);
  pressed_.reset(p);
  if (pedal_down_) {
    sustained_.set(p);  // the pedal keeps it sounding until it goes up
    return;
  }
  ++counts_.notes_off;
  check(sink_.note(pitch, 0), "note off", pitch);
}

void MidiInput::pedal(bool down) {
  if (down == pedal_down_) return;
  pedal_down_ = down;
  if (down) return;
  for (std::size_t p = 0; p < sustained_.size(); ++p) {
    if (!sustained_.test(p) || pressed_.test(p)) continue;
    ++counts_.notes_off;
    check(sink_.note(static_cast<int>(p), 0), "note off", static_cast<int>(p));
  }
  sustained_.reset();
}

void MidiInput::all_notes_off() {
  pressed_.reset();
  sustained_.reset();
  check(sink_.clear_notes(), "all notes off, CC", kAllNotesOff);
}

void MidiInput::control_change(int cc, int value) {
  ++counts_.control_changes;
  switch (cc) {
    case kSustainPedal:
      pedal(value >= 64);
      return;
    case kAllSoundOff:
    case kAllNotesOff:
      all_notes_off();
      return;
    case kResetAllControllers:
      pedal(false);
      return;
    default:
      break;
  }
  if (learning_) {
    bind_learned(cc);  // the move that binds changes nothing: the knob picks the value up
    return;
  }
  if (const std::optional<MidiParam> param = map_.param_of(cc)) resync(*param);
  const std::optional<ParamChange> change = map_.control_change(cc, value);
  if (!change) return;
  ++counts_.params_set;
  check(sink_.set(change->param, change->value), midi_param_info(change->param).name, cc);
}

// The value MIDI knows differs from the one in force (compared as the float Controls
// keeps): something else set it since, so every knob on it picks it up anew.
void MidiInput::resync(MidiParam param) {
  const std::optional<double> now = sink_.value(param);
  if (!now) return;
  const std::optional<double> known = map_.current(param);
  if (known && static_cast<float>(*known) == static_cast<float>(*now)) return;
  map_.sync(param, *now);
}

void MidiInput::program_change(int program) {
  const std::optional<Preset> preset = sink_.preset(program);
  if (!preset) {
    ++counts_.ignored;  // no preset has this program
    return;
  }
  const std::string refused = sink_.recall(*preset);
  check(refused, "program change", program);
  if (!refused.empty()) return;
  ++counts_.presets;
  // The preset moved these parameters: knobs on them pick the new values up.
  const auto sync_opt = [&](MidiParam param, const auto& value) {
    if (value) map_.sync(param, static_cast<double>(*value));
  };
  sync_opt(MidiParam::temperature, preset->temperature);
  sync_opt(MidiParam::top_k, preset->top_k);
  sync_opt(MidiParam::cfg_style, preset->cfg_style);
  sync_opt(MidiParam::cfg_notes, preset->cfg_notes);
  sync_opt(MidiParam::cfg_drums, preset->cfg_drums);
  sync_opt(MidiParam::drums, preset->drums);
}

MidiStats MidiInput::stats() const {
  MidiStats s;
  {
    const std::lock_guard lock(mutex_);
    s = counts_;
    const MidiParserStats& parsed = parser_.stats();
    s.messages = parsed.messages;
    s.dropped += parsed.dropped_bytes + parsed.truncated;
    s.sysex += parsed.sysex;
    for (std::size_t p = 0; p < 128; ++p) {
      if (pressed_.test(p) || sustained_.test(p)) s.held_notes.push_back(static_cast<int>(p));
    }
  }
  const MidiRingDrops drops = ring_.drops();
  s.dropped += drops.full + drops.oversize;
  s.sysex += drops.sysex;
  return s;
}

}  // namespace continuo
