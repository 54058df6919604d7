#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "osc/osc_message.hpp"

namespace continuo::osc {

// The NSM server is missing, refuses us or cannot be reached; what() names NSM_URL.
struct NsmError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What /nsm/client/open hands a client.
struct NsmOpen {
  std::string path;          // where this instance keeps its files (a prefix: we make a directory of it)
  std::string display_name;  // the session's name, for people
  std::string client_id;     // unique in the session: the JACK client name
};

// NSM API 1.1 error codes a client sends back in /error.
enum class NsmCode { general = -1, not_now = -8, create_failed = -10 };

// A client of an NSM (New Session Manager, API 1.1) server over UDP, at the URL the server
// put in NSM_URL ("osc.udp://host:port/"). The socket is connected to the server, so the
// kernel drops datagrams from anyone else and a server that is not there shows up as
// "connection refused". Announcing and waiting for /nsm/client/open happen before the
// engine starts; afterwards the main loop calls poll(). Never on a real-time thread.
class NsmClient {
 public:
  explicit NsmClient(const std::string& url);  // throws NsmError: not osc.udp://host:port/, unknown host
  ~NsmClient();
  NsmClient(const NsmClient&) = delete;
  NsmClient& operator=(const NsmClient&) = delete;

  // Sends /nsm/server/announce and waits for the server's /reply (or /error, thrown as
  // NsmError, as is no answer within answer_timeout), then for /nsm/client/open, which
  // the server sends when it is ready. interrupted() is asked between waits of at most
  // 20 ms; true gives up and returns none (SIGTERM from the session manager).
  std::optional<NsmOpen> join(const std::function<bool()>& interrupted,
                              std::chrono::milliseconds answer_timeout = std::chrono::seconds(5));

  // The answer to /nsm/client/open, once the instance runs (or could not start).
  void reply(const std::string& command, const std::string& message);
  void refuse(const std::string& command, NsmCode code, const std::string& why);

  // Answers whatever the server sent since the last call, without waiting:
  // /nsm/client/save runs save(), which returns "" when saved or why not. A server /error
  // is logged.
  void poll(const std::function<std::string()>& save);

  const std::string& url() const { return url_; }

 private:
  std::optional<Message> receive(std::chrono::milliseconds timeout);  // throws NsmError if nothing listens
  void send(const Message& message);
  void handle(const Message& message, const std::function<std::string()>& save);

  std::string url_;
  int fd_ = -1;
  std::vector<std::uint8_t> buffer_;  // one datagram
};

}  // namespace continuo::osc
