#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace continuo {

// A command line the user must fix; the process exits with code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Command { help, run, render, replay };

struct Invocation {
  Command command = Command::help;
  bool help = false;                   // --help after a command
  std::optional<std::string> config_path;
  std::vector<std::string> overrides;  // "section.key=value", flags first mapped onto keys
  double seconds = 0.0;                // render
  std::string out_path;                // render, replay
  std::string journal_path;            // replay: the take's journal
  std::string midi_path;               // render --midi: a Standard MIDI File played through the MIDI path
  std::string control_path;            // render --control: a timed control script (engine/control_script.hpp)
  std::optional<std::string> prompt;   // render --prompt: the style from text (a model with a text tower)
};

Invocation parse_command_line(const std::vector<std::string>& args);
std::string usage(Command command);

}  // namespace continuo
