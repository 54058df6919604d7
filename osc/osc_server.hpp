#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
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
#include "osc/rate_limiter.hpp"

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
  std::uint64_t dropped_not_allowed = 0;  // UDP packets, and TCP connections, from outside osc.allow
  std::uint64_t dropped_oversize = 0;
  std::uint64_t dropped_malformed = 0;
  std::uint64_t tcp_accepted = 0;       // TCP connections served
  std::uint64_t tcp_refused = 0;        // over osc.tcp_max_clients
  std::uint64_t tcp_closed_by_us = 0;   // oversize frame, wrong secret, a reader too slow for its replies
  std::uint64_t rate_limited = 0;       // messages (not packets) over osc.rate_limit, dropped unanswered

  std::uint64_t dropped() const { return dropped_not_allowed + dropped_oversize + dropped_malformed; }
};

// Who sent a message, so its replies and subscriptions go back there: a UDP address, or
// one TCP connection (its id; ids are never reused, unlike file descriptors).
struct Peer {
  sockaddr_storage address{};
  std::uint64_t tcp = 0;  // 0: UDP
};

// The OSC server, on its own thread: UDP on osc.bind:osc.port and, with osc.tcp, TCP on
// osc.bind:osc.tcp_port (OSC 1.0 stream framing, as liblo's osc.tcp:// speaks it: each
// packet preceded by its length, a big-endian int32). Both feed one dispatch path (the
// address map) and answer on the way the command came: a UDP datagram from the server's
// port to the sender's, a TCP reply on the same connection. The sockets are ours rather
// than liblo's because liblo 0.31 cannot bind a unicast UDP server to one address, so that
// the allowlist and the size limit apply before any byte is parsed, and because liblo's
// stream reader had bad-input bugs (#135, #171, #177); liblo decodes and encodes the
// messages (osc/packet.hpp). Everything is non-blocking: a client that does not read its
// replies is disconnected, never waited for.
class OscServer {
 public:
  OscServer(const OscConfig& config, Controls& controls, LearnHooks learn = {},
            RecordHook record = {});  // throws OscError
  ~OscServer();
  OscServer(const OscServer&) = delete;
  OscServer& operator=(const OscServer&) = delete;

  // Sends /continuo/<event> text to every sender subscribed with /continuo/notify 1.
  void notify(const std::string& event, const std::string& text);

  // Sends /continuo/analysis (docs/osc.md) to every sender subscribed with
  // /continuo/subscribe/analysis 1. From the main loop, once the frame is heard.
  void send_analysis(const AnalysisFrame& frame);
  bool has_analysis_subscribers();
  // Called (at once, then whenever it changes) with whether anyone is subscribed to the
  // analysis feed, under the subscribers' lock so calls arrive in order; the generator
  // analyses only while someone listens.
  void on_analysis_subscribers(std::function<void(bool)> listener);

  OscCounters counters() const;
  int port() const { return port_; }
  int tcp_port() const { return tcp_port_; }  // 0 without TCP

 private:
  static constexpr std::size_t kMaxSubscribers = 64;
  static constexpr std::size_t kMaxPendingReplyBytes = 1 << 20;  // per TCP connection

  struct Connection {
    std::uint64_t id = 0;
    int fd = -1;
    sockaddr_storage address{};
    std::vector<std::uint8_t> in;   // the OSC thread's alone
    std::vector<std::uint8_t> out;  // replies not written yet; under peers_mutex_
    bool authenticated = false;
    std::atomic<bool> closing{false};  // close once out is written; set under peers_mutex_ by others
  };

  void loop();
  void receive_udp();
  void accept_tcp();
  void read_tcp(Connection& connection);
  void flush(Connection& connection);  // caller holds peers_mutex_
  void close_marked();
  void handle(const std::uint8_t* data, std::size_t size, const Peer& sender, Connection* connection);
  void send(const Message& message, const Peer& to);
  void send_locked(const Message& message, const Peer& to);
  ControlResult subscribe(std::vector<Peer>& list, const char* command, const Peer& sender, bool on);
  ControlResult authenticate(Connection& connection, const std::string& secret);
  void analysis_changed();  // caller holds peers_mutex_
  void note_rate_limited(const Peer& sender, RateLimiter::Clock::time_point now);
  void log_rate_limited(RateLimiter::Clock::time_point now);

  Allowlist allow_;
  Controls& controls_;
  LearnHooks learn_;
  RecordHook record_;
  std::size_t max_bytes_;
  std::string secret_;
  std::size_t max_clients_;
  RateLimiter limiter_;
  int rate_limit_;
  int fd_ = -1;      // UDP, -1 with osc.udp = false
  int tcp_fd_ = -1;  // listening, -1 without osc.tcp
  int port_ = 0;
  int tcp_port_ = 0;
  std::vector<std::uint8_t> buffer_;

  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> not_allowed_{0};
  std::atomic<std::uint64_t> oversize_{0};
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> tcp_accepted_{0};
  std::atomic<std::uint64_t> tcp_refused_{0};
  std::atomic<std::uint64_t> tcp_closed_{0};
  std::atomic<std::uint64_t> rate_limited_{0};
  // The rate-limit log line (the OSC thread's): at most one a second, counting what it did not say.
  RateLimiter::Clock::time_point rate_logged_{};
  std::uint64_t rate_limited_unlogged_ = 0;
  sockaddr_storage rate_limited_latest_{};

  // Guards the subscribers, the connection list and each connection's out buffer: notify
  // and send_analysis run on the main thread, learn's answer on the MIDI thread. Only the
  // OSC thread adds or removes connections, so it may use them without the lock otherwise.
  std::mutex peers_mutex_;
  std::vector<Peer> subscribers_;
  std::vector<Peer> analysis_subscribers_;
  std::function<void(bool)> analysis_listener_;
  bool analysis_wanted_ = false;
  std::list<Connection> connections_;
  std::uint64_t next_connection_ = 1;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace continuo::osc
