#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/log.hpp"
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

struct ModelConfig {
  std::string spec = "double:chords";
  std::uint64_t seed = 0;
  int prefill_frames = 500;  // silence frames fed through a package model at reset
};

struct RenderConfig {
  int sample_rate = 0;  // 0: the model's own rate
};

struct Config {
  std::string path;  // the file the values came from
  JackConfig jack;
  EngineConfig engine;
  ModelConfig model;
  ControlSnapshot control;  // initial control values: [control] in the file
  RenderConfig render;
  LogLevel log_level = LogLevel::info;
};

// Reads a TOML config (none when path is empty: the built-in defaults), applies overrides ("section.key=value", the value in TOML syntax
// or a bare string) on top, and validates every key. Unknown keys, wrong types and
// out-of-range values throw ConfigError.
Config load_config(const std::string& path, const std::vector<std::string>& overrides);

// The values in force, one "section.key = value" per line, for the start-up log.
std::string describe_config(const Config& config);

}  // namespace continuo
