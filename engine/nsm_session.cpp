#include "engine/nsm_session.hpp"

#include <charconv>
#include <filesystem>

#include "engine/atomic_file.hpp"
#include "engine/control_script.hpp"
#include "engine/log.hpp"

namespace continuo {
namespace {

constexpr const char* kStateFile = "session.toml";
constexpr const char* kLiveFile = "session.ctl";
constexpr const char* kLearnFile = "midi-learn.map";
constexpr const char* kSaveCommit = "session.saving";  // a save's commit list (write_files_together)

// What session.toml keeps of the performer: every [control] key and the output gain.
const std::vector<std::string> kStateKeys{
    "control.style_tokens", "control.drums",       "control.cfg_style", "control.cfg_notes", "control.cfg_drums",
    "control.temperature",  "control.top_k",       "control.seed",      "control.onset_mode", "engine.volume_db"};

// The session's client name and learn file over config.
void point_at_session(const std::string& dir, const std::string& client_id, Config& config) {
  config.jack.client_name = client_id;
  config.midi.learn_file = (std::filesystem::path(dir) / kLearnFile).string();
}

// session.toml over config, all of it or (ConfigError) none. False for a new session.
bool load_saved_controls(const std::string& dir, Config& config) {
  const std::string state = (std::filesystem::path(dir) / kStateFile).string();
  if (!std::filesystem::exists(state)) return false;
  Config layered = config;
  load_config_layer(layered, state);
  config = std::move(layered);
  return true;
}

// The instance directory, made if new.
void make_session_dir(const osc::NsmOpen& open, osc::NsmClient& client) {
  std::error_code error;
  std::filesystem::create_directories(open.path, error);
  if (!error) return;
  const std::string why = open.path + ": cannot create the session directory: " + error.message();
  client.refuse("/nsm/client/open", osc::NsmCode::create_failed, why);
  throw osc::NsmError("nsm: " + why);
}

// What a save writes to session.toml: its keys with the values controls hold now.
std::string state_toml(const Controls& controls) {
  Config values;
  values.control = controls.snapshot();
  values.engine.volume_db = controls.volume_db();
  return "# continuo session state, written on NSM save: config keys read over the config at open\n" +
         config_toml(values, kStateKeys);
}

std::string shortest(float value) {
  char text[32];
  return {text, std::to_chars(text, text + sizeof text, value).ptr};
}

// What a save writes to session.ctl: mute and every text prompt slot with something in it. A
// prompt re-blends the style tokens, so the tokens in play come last: the performer may
// have set them after the prompts.
std::string live_state_script(const Controls& controls) {
  std::string text =
      "# continuo session state, written on NSM save: a control script applied before the first frame at open\n"
      "0 /continuo/mute " + std::string(controls.muted() ? "1" : "0") + "\n";
  bool prompts_in_play = false;
  const auto slots = controls.prompt_slots();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::string address = "0 /continuo/prompt/" + std::to_string(i + 1);
    if (slots[i].audio) {  // the audio is gone; the style it gave is in the tokens below
      text += "# prompt slot " + std::to_string(i + 1) + ": " + slots[i].text + ", kept as the style tokens\n";
      prompts_in_play = prompts_in_play || slots[i].weight > 0.0f;
      continue;
    }
    if (!slots[i].text.empty()) text += address + "/text " + quote_control_word(slots[i].text) + "\n";
    if (slots[i].weight != WeightedPrompt{}.weight) text += address + "/weight " + shortest(slots[i].weight) + "\n";
    prompts_in_play = prompts_in_play || (!slots[i].text.empty() && slots[i].weight > 0.0f);
  }
  if (prompts_in_play) {
    text += "0 /continuo/style/tokens";
    for (const int token : controls.snapshot().style_tokens) text += " " + std::to_string(token);
    text += "\n";
  }
  return text;
}

}  // namespace

NsmSession::NsmSession(std::unique_ptr<osc::NsmClient> client, std::string dir, std::string client_id)
    : client_(std::move(client)), dir_(std::move(dir)), client_id_(std::move(client_id)) {}

std::string NsmSession::path(const char* file) const { return (std::filesystem::path(dir_) / file).string(); }

void NsmSession::layer(Config& config) const {
  point_at_session(dir_, client_id_, config);
  load_saved_controls(dir_, config);
}

std::unique_ptr<NsmSession> NsmSession::join(const std::string& url, Config& config,
                                             const std::function<bool()>& interrupted) {
  auto client = std::make_unique<osc::NsmClient>(url);
  const std::optional<osc::NsmOpen> open = client->join(interrupted);
  if (!open) return nullptr;
  log_info("nsm: opening session \"", open->display_name, "\" as client ", open->client_id, " in ", open->path);
  make_session_dir(*open, *client);
  std::unique_ptr<NsmSession> session(new NsmSession(std::move(client), open->path, open->client_id));
  session->finish_interrupted_save();
  point_at_session(open->path, open->client_id, config);
  try {
    if (load_saved_controls(open->path, config)) log_info("nsm: controls from ", session->path(kStateFile));
  } catch (const ConfigError& bad) {
    session->set_aside(kStateFile, bad.what());
  }
  return session;
}

// The two state files are saved together; a save a crash cut short is finished or dropped
// here, before either is read, so the session never opens on one new file and one old.
void NsmSession::finish_interrupted_save() {
  try {
    const std::string done = finish_files_together(path(kSaveCommit), {path(kStateFile), path(kLiveFile)});
    if (!done.empty()) log_info("nsm: ", done);
  } catch (const std::runtime_error& error) {
    save_refused_ = std::string("an interrupted save could not be finished: ") + error.what();
    log_error("nsm: ", save_refused_);
  }
}

// A state file continuo cannot read is still the performer's work, perhaps edited by hand:
// it is moved to <file>.bad (.bad.2, ... when taken) rather than refused, so the session
// opens and plays from the config, and rather than left, so no later save writes over it.
void NsmSession::set_aside(const std::string& file, const std::string& why) {
  const std::string from = path(file.c_str());
  std::string kept = from + ".bad";
  for (int n = 2; std::filesystem::exists(kept); ++n) kept = from + ".bad." + std::to_string(n);
  std::error_code error;
  std::filesystem::rename(from, kept, error);
  std::string what = why + "; kept as " + kept + ", starting from the config";
  if (error) {
    what = why + "; it could not be moved aside (" + error.message() + "), so saves are refused until it is fixed";
    save_refused_ = "an unreadable state file in " + dir_ + " could not be moved aside; the log names it";
  }
  log_error("nsm: ", what);
  set_aside_ += (set_aside_.empty() ? "" : "; ") + what;
}

void NsmSession::restore(Controls& controls) {
  const std::string live = path(kLiveFile);
  if (!std::filesystem::exists(live)) return;
  std::vector<ControlCommand> commands;
  try {
    commands = read_control_script(live);
  } catch (const ControlScriptError& bad) {
    set_aside(kLiveFile, bad.what());
    return;
  }
  // A line the model playing refuses (prompts without a text tower) is named and skipped.
  for (const ControlCommand& command : commands) {
    const std::string why = apply_control(command, controls);
    if (!why.empty()) log_error("nsm: ", live, ":", command.line, ": ", command.message.address, ": not restored: ", why);
  }
  log_info("nsm: mute and prompts from ", live);
}

NsmSession::~NsmSession() {
  if (!answered_) failed("continuo stopped before it could play; its log says why");
}

void NsmSession::opened(const std::string& what) {
  client_->reply("/nsm/client/open", set_aside_.empty() ? what : what + "; " + set_aside_);
  answered_ = true;
}

void NsmSession::failed(const std::string& why) {
  client_->refuse("/nsm/client/open", osc::NsmCode::general, why);
  answered_ = true;
}

void NsmSession::poll(const Controls& controls) {
  client_->poll([&] { return save(controls); });
}

std::string NsmSession::save(const Controls& controls) const {
  if (!save_refused_.empty()) return save_refused_;
  try {
    write_files_together(path(kSaveCommit),
                         {{path(kStateFile), state_toml(controls)}, {path(kLiveFile), live_state_script(controls)}});
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  log_info("nsm: saved the controls to ", path(kStateFile), " and ", kLiveFile);
  return {};
}

}  // namespace continuo
