#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/audio_ring.hpp"
#include "engine/control_state.hpp"
#include "engine/controls.hpp"
#include "engine/playback.hpp"
#include "osc/osc_message.hpp"

namespace continuo {

// A control script continuo cannot use. what() is one line naming the file and line:
// "demo.ctl:3: /continuo/temperature: temperature must be greater than 0 and at most 10, got 20".
struct ControlScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One line of a control script: an OSC message and when to apply it.
struct ControlCommand {
  double seconds = 0.0;
  int line = 0;
  osc::Message message;
};

// Controls for a process without an audio thread (offline render, a script's dry run).
// Controls needs a Playback; here it only keeps the gain asked for, and the owner reads
// Controls::volume_db()/muted() and applies them itself.
class OfflineControls {
 public:
  OfflineControls(ControlState& state, float volume_db, std::shared_ptr<const StyleEncoder> style_encoder = {});
  Controls& controls() { return controls_; }

 private:
  AudioRing ring_{1};
  Playback playback_;
  Controls controls_;
};

// The script format, one command per line (docs/osc.md lists the addresses):
//   <seconds> <osc-address> [args...]     e.g.  1.5 /continuo/style/tokens 3 1 4 1 5 9 2 6 5 3 5 8
// Arguments are integers, decimals or "quoted strings" (always strings, "42" too; \" \\ and
// \n inside stand for a quote, a backslash and a newline); '#' starts a comment. Each line
// goes through the OSC address map, so a command means exactly what the same OSC message
// means live. Every line is checked by a dry run on scratch controls before anything is
// rendered: an unknown address, wrong arguments or an out-of-range value is an error
// naming the line. Commands come back in time order (ties: file order).
std::vector<ControlCommand> parse_control_script(std::string_view text, const std::string& name);
std::vector<ControlCommand> read_control_script(const std::string& path);

// text as one "quoted string" word that the script format reads back as exactly text.
std::string quote_control_word(std::string_view text);

// Applies one command through the OSC address map: "" when applied, else /fail's reason.
std::string apply_control(const ControlCommand& command, Controls& controls);

}  // namespace continuo
