#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/log.hpp"
#include "engine/preset.hpp"
#include "engine/resampler.hpp"

namespace continuo {

// A config problem the user must fix. what() names the file, the line (when known) and
// the key: "configs/my.toml:12: engine.lookahead_ms: must be between 20 and 5000".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct JackConfig {
  std::string client_name = "continuo";
  std::string server_name;  // empty: $JACK_DEFAULT_SERVER, else JACK's default
  std::vector<std::string> output_ports{"out_l", "out_r"};  // exactly two
  std::vector<std::string> input_ports{"in_l", "in_r"};     // exactly two
  std::string midi_port = "midi_in";
  bool auto_connect = false;
  std::vector<std::string> connect_outputs{"system:playback_1", "system:playback_2"};
  int reconnect_interval_ms = 250;
};

struct EngineConfig {
  double lookahead_ms = 200.0;
  double fade_ms = 10.0;
  double gain_ramp_ms = 20.0;
  double volume_db = 0.0;
  ResamplerQuality resampler = ResamplerQuality::medium;
};

// Where a model package's language model runs (docs/cuda.md): automatic picks CUDA when this
// build has the CUDA runtime, a device is present and the package fits it, else the CPU.
enum class ModelBackend { automatic, cuda, cpu };

struct ModelConfig {
  std::string spec = "default";  // models/default/, the bundled model (issue 6)
  std::string dir;  // packages a bare model name is looked up in; empty: model_dirs() below
  std::uint64_t seed = 0;
  int prefill_frames = 500;  // silence frames fed through a package model at reset
  ModelBackend backend = ModelBackend::automatic;

  bool operator==(const ModelConfig&) const = default;
};

struct RenderConfig {
  int sample_rate = 0;  // 0: the model's own rate
};

// Performer parameters a MIDI controller can move (midi.cc_map), with the range each
// accepts: the same ranges Controls enforces.
enum class MidiParam { temperature, top_k, cfg_style, cfg_notes, cfg_drums, drums, volume_db, mute };

struct MidiParamInfo {
  MidiParam param;
  const char* name;
  double lo;
  double hi;
  bool integer;  // the value is rounded: top_k, drums, mute (0 off, 1 on)
};

inline constexpr MidiParamInfo kMidiParams[] = {
    {MidiParam::temperature, "temperature", 0.01, 10, false}, {MidiParam::top_k, "top_k", 1, 1024, true},
    {MidiParam::cfg_style, "cfg_style", -1, 7, false},        {MidiParam::cfg_notes, "cfg_notes", -1, 7, false},
    {MidiParam::cfg_drums, "cfg_drums", -1, 7, false},        {MidiParam::drums, "drums", -1, 1, true},
    {MidiParam::volume_db, "volume_db", -120, 24, false},     {MidiParam::mute, "mute", 0, 1, true},
};

inline constexpr const MidiParamInfo& midi_param_info(MidiParam param) { return kMidiParams[static_cast<int>(param)]; }

// One controller knob: CC number cc (0..127; with bits = 14, 0..31 and its LSB at cc + 32)
// sweeps param linearly from min (CC value 0) to max (the largest CC value).
struct MidiCcMapping {
  int cc = 0;
  MidiParam param = MidiParam::temperature;
  double min = 0.0;
  double max = 1.0;
  int bits = 7;

  bool operator==(const MidiCcMapping&) const = default;
};

enum class MidiTakeover { none, pickup };

// Where MIDI comes from: the JACK port (jack.midi_port, read in the process callback) or
// the ALSA sequencer through RtMidi (midi/alsa_input.hpp).
enum class MidiBackend { jack, alsa };

struct MidiConfig {
  int channel = 0;  // 0 omni, else only this channel (1..16)
  MidiTakeover takeover = MidiTakeover::pickup;
  // A generic 8-knob controller (CC 70..77) and its master fader (CC 7).
  std::vector<MidiCcMapping> cc_map{
      {70, MidiParam::temperature, 0.1, 2.5, 7}, {71, MidiParam::top_k, 1, 256, 7},
      {72, MidiParam::cfg_style, 0, 7, 7},       {73, MidiParam::cfg_notes, 0, 7, 7},
      {74, MidiParam::cfg_drums, 0, 7, 7},       {75, MidiParam::drums, -1, 1, 7},
      {76, MidiParam::volume_db, -60, 6, 7},     {77, MidiParam::mute, 0, 1, 7},
      {7, MidiParam::volume_db, -60, 6, 7},
  };
  // MIDI learn's user mapping file: "" keeps learned knobs for this run only; else they are
  // written there (temp file + rename) and loaded at start on top of cc_map.
  std::string learn_file;
  MidiBackend backend = MidiBackend::jack;
  // With backend "alsa": the sequencer port to connect, "client:port" or a substring of
  // its name; "" opens a virtual input port named after the JACK client for others to connect.
  std::string alsa_port;
};

// The OSC server (docs/osc.md). UDP carries no secret, so access is by where it binds and
// which sender networks it answers.
struct OscConfig {
  bool enabled = true;
  std::string bind = "127.0.0.1";  // an IPv4 or IPv6 address; "0.0.0.0" or "::" for every interface
  int port = 9000;  // always explicit: a port the performer's patch can name
  std::vector<std::string> allow{"127.0.0.0/8"};  // sender networks, "a.b.c.d/n" or "v6addr/n"
  int max_message_bytes = 32768;  // a larger datagram is dropped unread; a larger TCP frame closes its connection
  bool udp = true;
  bool tcp = false;   // OSC 1.0 stream framing (liblo's osc.tcp://) beside UDP
  int tcp_port = 0;   // 0: the same number as port
  int tcp_max_clients = 8;
  std::string secret;  // non-empty: a TCP client must first send /continuo/auth <secret>
  int rate_limit = 40000;  // messages a second per sender IP address, on average; 0: no limit
  int rate_burst = 10000;  // messages a sender may send at once, above the average
};

// How takes, renders and replays are stored. wav: 32-bit float, so a file holds exactly
// what the generator made (RF64 once it outgrows 4 GB); flac: 24-bit, about half the size.
enum class AudioFormat { wav, flac };

// The session recorder (docs/reliability.md, "Nothing lost").
struct RecordConfig {
  std::string dir;  // "": no recorder, /continuo/record refuses
  AudioFormat format = AudioFormat::wav;
  bool on_start = false;        // a take from the first frame (continuo run --record DIR)
  int sync_ms = 1000;           // fsync of audio and journal
  double buffer_seconds = 10.0;  // audio the writer may fall behind before frames are dropped
};

// Ableton Link (docs/multi-machine.md): tempo and beat phase shared with other Link peers
// (other continuo instances, DAWs, visuals) on the local network.
struct LinkConfig {
  bool enabled = false;
  double quantum = 4.0;   // beats per bar: what phase and bar boundaries count in
  double tempo = 120.0;   // the session's tempo until a peer or /continuo/link/tempo changes it
};

// The JACK inputs (docs/architecture.md, "The input path").
struct InputConfig {
  double capture_seconds = 30.0;  // kept for /continuo/prefill/live; 0: no capture
};

// Audio prompts from files (/continuo/prompt/N/audio file PATH).
struct PromptsConfig {
  std::string dir;  // PATH is relative to it and may not leave it; "": file prompts refused
};

struct Config {
  std::string path;  // the file the values came from
  JackConfig jack;
  EngineConfig engine;
  ModelConfig model;
  ControlSnapshot control;  // initial control values: [control] in the file
  RenderConfig render;
  MidiConfig midi;
  OscConfig osc;
  RecordConfig record;
  LinkConfig link;
  InputConfig input;
  PromptsConfig prompts;
  std::vector<Preset> presets;  // [[presets]]: none built in
  LogLevel log_level = LogLevel::info;
};

// Reads a TOML config (none when path is empty: the built-in defaults), applies overrides ("section.key=value", the value in TOML syntax
// or a bare string) on top, and validates every key. Unknown keys, wrong types and
// out-of-range values throw ConfigError.
Config load_config(const std::string& path, const std::vector<std::string>& overrides);

// Reads the TOML file at path on top of config, by load_config's rules and with its errors:
// the state an NSM session keeps (engine/nsm_session.hpp) over the config it started from.
void load_config_layer(Config& config, const std::string& path);

// The values of keys ("section.key", grouped by section in the order given) as a TOML
// document that load_config_layer reads back to the same values.
std::string config_toml(const Config& config, const std::vector<std::string>& keys);

// The values in force, one "section.key = value" per line, for the start-up log.
std::string describe_config(const Config& config);

// The keys ("section.key", and "presets") whose values differ between a and b, in the
// order describe_config lists them.
std::vector<std::string> changed_keys(const Config& a, const Config& b);

}  // namespace continuo
