#include "engine/nsm_session.hpp"

#include <filesystem>

#include "engine/atomic_file.hpp"
#include "engine/log.hpp"

namespace continuo {
namespace {

constexpr const char* kStateFile = "session.toml";
constexpr const char* kLearnFile = "midi-learn.map";

// What a session keeps of the performer: every [control] key and the output gain.
const std::vector<std::string> kStateKeys{
    "control.style_tokens", "control.drums",       "control.cfg_style", "control.cfg_notes", "control.cfg_drums",
    "control.temperature",  "control.top_k",       "control.seed",      "control.onset_mode", "engine.volume_db"};

// The session's client name and learn file, and its saved state over config. Returns
// false for a new session (no saved state yet). Throws ConfigError for an unreadable one.
bool point_at_session(const std::string& dir, const std::string& client_id, Config& config) {
  config.jack.client_name = client_id;
  config.midi.learn_file = (std::filesystem::path(dir) / kLearnFile).string();
  const std::string state = (std::filesystem::path(dir) / kStateFile).string();
  if (!std::filesystem::exists(state)) return false;
  load_config_layer(config, state);
  return true;
}

// The instance directory with our files in it; the saved state over config.
void enter_session(const osc::NsmOpen& open, osc::NsmClient& client, Config& config) {
  std::error_code error;
  std::filesystem::create_directories(open.path, error);
  if (error) {
    const std::string why = open.path + ": cannot create the session directory: " + error.message();
    client.refuse("/nsm/client/open", osc::NsmCode::create_failed, why);
    throw osc::NsmError("nsm: " + why);
  }
  try {
    if (point_at_session(open.path, open.client_id, config)) log_info("nsm: controls from ", open.path, "/", kStateFile);
  } catch (const ConfigError& bad) {
    client.refuse("/nsm/client/open", osc::NsmCode::bad_project, bad.what());
    throw;
  }
}

// What a save writes: the keys of session.toml with the values controls hold now.
std::string state_toml(const Controls& controls) {
  Config values;
  values.control = controls.snapshot();
  values.engine.volume_db = controls.volume_db();
  return "# continuo session state, written on NSM save: config keys read over the config at open\n" +
         config_toml(values, kStateKeys);
}

}  // namespace

NsmSession::NsmSession(std::unique_ptr<osc::NsmClient> client, std::string dir, std::string client_id)
    : client_(std::move(client)), dir_(std::move(dir)), client_id_(std::move(client_id)) {}

void NsmSession::layer(Config& config) const { point_at_session(dir_, client_id_, config); }

std::unique_ptr<NsmSession> NsmSession::join(const std::string& url, Config& config,
                                             const std::function<bool()>& interrupted) {
  auto client = std::make_unique<osc::NsmClient>(url);
  const std::optional<osc::NsmOpen> open = client->join(interrupted);
  if (!open) return nullptr;
  log_info("nsm: opening session \"", open->display_name, "\" as client ", open->client_id, " in ", open->path);
  enter_session(*open, *client, config);
  return std::unique_ptr<NsmSession>(new NsmSession(std::move(client), open->path, open->client_id));
}

NsmSession::~NsmSession() {
  if (!answered_) failed("continuo stopped before it could play; its log says why");
}

void NsmSession::opened(const std::string& what) {
  client_->reply("/nsm/client/open", what);
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
  const std::string path = (std::filesystem::path(dir_) / kStateFile).string();
  try {
    write_file_atomically(path, state_toml(controls));
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  log_info("nsm: saved the controls to ", path);
  return {};
}

}  // namespace continuo
