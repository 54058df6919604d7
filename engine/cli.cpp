#include "engine/cli.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace continuo {
namespace {

enum class ValueKind { text, number, flag };

// Every option that stands for a config key: the flag is a shorthand for --set key=value,
// so flags and the config file go through one validation.
struct KeyOption {
  const char* flag;
  const char* key;
  ValueKind kind;
  const char* help;
};

constexpr std::array kKeyOptions{
    KeyOption{"--model", "model.spec", ValueKind::text, "model to play (config model.spec)"},
    KeyOption{"--seed", "model.seed", ValueKind::number, "random seed (config model.seed)"},
    KeyOption{"--backend", "model.backend", ValueKind::text, "where a package runs: auto, cuda or cpu"},
    KeyOption{"--client-name", "jack.client_name", ValueKind::text, "JACK client name (config jack.client_name)"},
    KeyOption{"--server", "jack.server_name", ValueKind::text, "JACK server name (config jack.server_name)"},
    KeyOption{"--lookahead-ms", "engine.lookahead_ms", ValueKind::number, "audio generated ahead of playback"},
    KeyOption{"--auto-connect", "jack.auto_connect", ValueKind::flag, "connect outputs to jack.connect_outputs"},
    KeyOption{"--log-level", "log.level", ValueKind::text, "debug, info, warn or error"},
};

std::string toml_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

double parse_seconds(const std::string& text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) || value <= 0.0 ||
      value > 86400.0) {
    throw UsageError("--seconds: expected a number of seconds between 0 and 86400, got '" + text + "'");
  }
  return value;
}

Command parse_command(const std::string& word) {
  if (word == "run") return Command::run;
  if (word == "render") return Command::render;
  if (word == "replay") return Command::replay;
  if (word == "help" || word == "--help" || word == "-h") return Command::help;
  throw UsageError("unknown command '" + word + "'; try: continuo --help");
}

class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}
  bool done() const { return next_ >= args_.size(); }
  const std::string& take() { return args_[next_++]; }
  const std::string& value_of(const std::string& flag) {
    if (done()) throw UsageError(flag + " needs a value");
    return take();
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t next_ = 0;
};

bool take_key_option(const std::string& arg, ArgReader& reader, Invocation& invocation) {
  for (const KeyOption& option : kKeyOptions) {
    if (arg != option.flag) continue;
    std::string value = "true";
    if (option.kind != ValueKind::flag) value = reader.value_of(arg);
    if (option.kind == ValueKind::text) value = toml_string(value);
    invocation.overrides.push_back(std::string(option.key) + "=" + value);
    return true;
  }
  return false;
}

bool take_render_option(const std::string& arg, ArgReader& reader, Invocation& invocation) {
  if (arg == "--seconds") invocation.seconds = parse_seconds(reader.value_of(arg));
  else if (arg == "--out") invocation.out_path = reader.value_of(arg);
  else if (arg == "--midi") invocation.midi_path = reader.value_of(arg);
  else if (arg == "--control") invocation.control_path = reader.value_of(arg);
  else if (arg == "--prompt") invocation.prompt = reader.value_of(arg);
  else return false;
  return true;
}

const char* command_name(Command command) {
  switch (command) {
    case Command::render:
      return "render";
    case Command::replay:
      return "replay";
    default:
      return "run";
  }
}

// run --record DIR: the recorder's directory, and a take from the first frame.
bool take_run_option(const std::string& arg, ArgReader& reader, Invocation& invocation) {
  if (arg != "--record") return false;
  invocation.overrides.push_back("record.dir=" + toml_string(reader.value_of(arg)));
  invocation.overrides.push_back("record.on_start=true");
  return true;
}

bool take_replay_option(const std::string& arg, ArgReader& reader, Invocation& invocation) {
  if (arg == "--out") invocation.out_path = reader.value_of(arg);
  else if (!arg.starts_with("-") && invocation.journal_path.empty()) invocation.journal_path = arg;
  else return false;
  return true;
}

bool take_command_option(const std::string& arg, ArgReader& reader, Invocation& invocation) {
  switch (invocation.command) {
    case Command::render:
      return take_render_option(arg, reader, invocation);
    case Command::replay:
      return take_replay_option(arg, reader, invocation);
    case Command::run:
      return take_run_option(arg, reader, invocation);
    case Command::help:
      break;
  }
  return false;
}

void take_option(const std::string& arg, ArgReader& reader, Invocation& invocation) {
  if (arg == "--help" || arg == "-h") invocation.help = true;
  else if (arg == "--config") invocation.config_path = reader.value_of(arg);
  else if (arg == "--set") invocation.overrides.push_back(reader.value_of(arg));
  else if (take_command_option(arg, reader, invocation)) return;
  else if (!take_key_option(arg, reader, invocation)) throw UsageError("unknown option '" + arg + "'; try: continuo " + command_name(invocation.command) + " --help");
}

}  // namespace

Invocation parse_command_line(const std::vector<std::string>& args) {
  Invocation invocation;
  if (args.empty()) return invocation;
  ArgReader reader(args);
  invocation.command = parse_command(reader.take());
  if (invocation.command == Command::help) return invocation;
  while (!reader.done()) take_option(reader.take(), reader, invocation);
  if (invocation.help) return invocation;
  if (invocation.command == Command::replay) {
    if (invocation.journal_path.empty()) throw UsageError("replay needs a JOURNAL (a take's .journal file)");
    if (invocation.out_path.empty()) throw UsageError("replay needs --out FILE.wav");
  }
  if (invocation.command != Command::render) return invocation;
  if (invocation.seconds <= 0.0) throw UsageError("render needs --seconds N (a positive number)");
  if (invocation.out_path.empty()) throw UsageError("render needs --out FILE.wav");
  return invocation;
}

std::string usage(Command command) {
  std::string common =
      "  --config FILE         config file (default: configs/default.toml)\n"
      "  --set KEY=VALUE       override one config key, e.g. --set engine.lookahead_ms=150\n";
  for (const KeyOption& option : kKeyOptions) {
    std::string flag = std::string(option.flag) + (option.kind == ValueKind::flag ? "" : " X");
    flag.resize(22, ' ');
    common += "  " + flag + option.help + "\n";
  }
  common += "  --help                this text\n";
  switch (command) {
    case Command::run:
      return "usage: continuo run [options]\n"
             "Plays the model live as a JACK client: audio out_l/out_r, in_l/in_r, MIDI midi_in.\n"
             "SIGUSR1 prints a status line; SIGINT/SIGTERM stop cleanly.\n\n"
             "  --record DIR          record takes to DIR (config record.dir), the first from the start\n" + common;
    case Command::replay:
      return "usage: continuo replay JOURNAL --out FILE [options]\n"
             "Makes a recorded take's audio again, offline, from its journal: the same model, backend\n"
             "and seed give the same samples, bit for bit. Progress goes to stderr.\n\n"
             "  JOURNAL               a take's .journal (continuo run --record, /continuo/record 1)\n"
             "  --out FILE            output: .flac for FLAC, else 32-bit float WAV\n" + common;
    case Command::render:
      return "usage: continuo render --seconds N --out FILE.wav [--midi FILE.mid] [--control FILE] [options]\n"
             "Renders the model offline, as fast as it runs, to a 32-bit float stereo WAV.\n"
             "The same inputs and seed give the same file, byte for byte.\n\n"
             "  --seconds N           length to render (0 < N <= 86400)\n"
             "  --out FILE.wav        output file, written whole or not at all (.flac: 24-bit FLAC)\n"
             "  --midi FILE.mid       notes and CCs at their times, through the live MIDI handling\n"
             "  --control FILE        timed OSC commands, one per line: <seconds> <address> [args]\n"
             "  --prompt TEXT         style from text, for a model with a text tower (from the first frame)\n" + common;
    case Command::help:
      break;
  }
  return "usage: continuo <command> [options]\n\n"
         "commands:\n"
         "  run      play live through JACK, steered by MIDI and OSC\n"
         "  render   render offline to a WAV file\n"
         "  replay   make a recorded take's audio again from its journal\n\n"
         "continuo <command> --help describes each command.\n";
}

}  // namespace continuo
