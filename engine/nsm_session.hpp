#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/config.hpp"
#include "engine/controls.hpp"
#include "osc/nsm_client.hpp"

namespace continuo {

// continuo as a client of an NSM session (NSM_URL set; docs/installation.md). The
// session's client id names the JACK client; the directory the server hands us keeps
//   session.toml    the performer's controls ([control], engine.volume_db) as config TOML,
//                   read over the config at open, so the engine starts with them;
//   session.ctl     what the config has no keys for (mute, the prompt slots, and the style
//                   tokens the prompts blend to) as a control script, applied through the
//                   OSC address map before the first frame;
//   midi-learn.map  midi.learn_file: knobs learned in this session, written as they are learned.
// Both state files are written on /nsm/client/save, together (write_files_together: a crash
// mid-save leaves both old or, finished at the next open, both new). One that cannot be read
// is moved aside (<file>.bad) and the session starts from the config.
// Everything here runs on the main thread, never on a real-time one.
class NsmSession {
 public:
  // Announces to the server at url, waits for /nsm/client/open and points config at the
  // session. Throws osc::NsmError (the server is missing or refuses, or the directory
  // cannot be made; the server is told too). None: interrupted() turned true before the
  // server opened us.
  static std::unique_ptr<NsmSession> join(const std::string& url, Config& config,
                                          const std::function<bool()>& interrupted);

  // Before the engine's first frame: session.ctl's mute and prompts, through controls.
  void restore(Controls& controls);

  // The answer to the open: /reply once the engine runs (naming any state file moved
  // aside), or /error with why it could not start. One left unanswered (a model that
  // failed to load, say) is refused on destruction.
  void opened(const std::string& what);
  void failed(const std::string& why);
  ~NsmSession();

  // From the main loop: answers the server; a save writes what controls hold now.
  void poll(const Controls& controls);

  // A config read again (SIGHUP), pointed at the session as at open: the client name, the
  // learn file and the last saved controls stay the session's. Throws ConfigError.
  void layer(Config& config) const;

 private:
  NsmSession(std::unique_ptr<osc::NsmClient> client, std::string dir, std::string client_id);
  std::string path(const char* file) const;
  void finish_interrupted_save();
  void set_aside(const std::string& file, const std::string& why);
  std::string save(const Controls& controls) const;  // "" or why not

  std::unique_ptr<osc::NsmClient> client_;
  std::string dir_;
  std::string client_id_;
  std::string set_aside_;  // what was moved aside at open, for the open's reply
  std::string save_refused_;  // why saves are refused (a state file that could not be moved aside, ...) or ""
  bool answered_ = false;
};

}  // namespace continuo
