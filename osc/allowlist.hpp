#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace continuo::osc {

// Sender networks the server answers. UDP carries no secret, so this and the bind address
// are the access control. IPv4 senders reaching an IPv6 socket ("::ffff:a.b.c.d") match
// IPv4 networks.
class Allowlist {
 public:
  // Each entry "address/prefix" or a bare address (a single host). Throws
  // std::invalid_argument naming the entry that does not parse.
  explicit Allowlist(const std::vector<std::string>& networks);

  bool allows(const sockaddr* sender) const;

 private:
  struct Network {
    int family;  // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes;
    int prefix;
  };
  static Network parse(const std::string& text);

  std::vector<Network> networks_;
};

// "127.0.0.1:9000" or "[::1]:9000", for logs.
std::string describe(const sockaddr* address);

}  // namespace continuo::osc
