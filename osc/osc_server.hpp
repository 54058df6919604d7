#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/analysis.hpp"
#include "engine/config.hpp"
#include "engine/controls.hpp"
#include "osc/address_map.hpp"
#include "osc/allowlist.hpp"
#include "osc/osc_message.hpp"

namespace continuo::osc {

// A problem with the [osc] config or the socket, for the user to fix.
struct OscError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The port is taken (another engine, or a test running beside this one).
struct OscBindError : OscError {
  using OscError::OscError;
};

struct OscCounters {
  std::uint64_t messages = 0;           // dispatched, each answered
  std::uint64_t dropped_not_allowed = 0;
  std::uint64_t dropped_oversize = 0;
  std::uint64_t dropped_malformed = 0;

  std::uint64_t dropped() const { return dropped_not_allowed + dropped_oversize + dropped_malformed; }
};

// The OSC server: UDP on osc.bind:osc.port, on its own thread. The socket is ours rather
// than liblo's because liblo 0.31 cannot bind a unicast UDP server to one address, and so
// that the allowlist and the size limit are applied before any byte is parsed; liblo
// decodes and encodes the messages (osc/packet.hpp). Replies go to the sender from the
// server's port, as scsynth's do, so a client can listen on the port it sends from.
class OscServer {
 public:
  OscServer(const OscConfig& config, Controls& controls, LearnHooks learn = {});  // throws OscError
  ~OscServer();
  OscServer(const OscServer&) = delete;
  OscServer& operator=(const OscServer&) = delete;

  // Sends /continuo/<event> text to every sender subscribed with /continuo/notify 1.
  void notify(const std::string& event, const std::string& text);

  // Sends /continuo/analysis (docs/osc.md) to every sender subscribed with
  // /continuo/subscribe/analysis 1. From the main loop, once the frame is heard.
  void send_analysis(const AnalysisFrame& frame);
  bool has_analysis_subscribers();

  OscCounters counters() const;
  int port() const { return port_; }

 private:
  static constexpr std::size_t kMaxSubscribers = 64;

  void loop();
  void receive_one();
  void handle(const std::uint8_t* data, std::size_t size, const sockaddr_storage& sender);
  void send(const Message& message, const sockaddr_storage& to);
  ControlResult subscribe(std::vector<sockaddr_storage>& list, const char* command, const sockaddr_storage& sender,
                          bool on);

  Allowlist allow_;
  Controls& controls_;
  LearnHooks learn_;
  std::size_t max_bytes_;
  int fd_ = -1;
  int port_ = 0;
  std::vector<std::uint8_t> buffer_;

  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> not_allowed_{0};
  std::atomic<std::uint64_t> oversize_{0};
  std::atomic<std::uint64_t> malformed_{0};

  std::mutex subscribers_mutex_;  // notify runs on the main thread
  std::vector<sockaddr_storage> subscribers_;
  std::vector<sockaddr_storage> analysis_subscribers_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace continuo::osc
