#include "osc/allowlist.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace continuo::osc {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool prefix_matches(const std::uint8_t* a, const std::uint8_t* b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

Allowlist::Allowlist(const std::vector<std::string>& networks) {
  for (const std::string& text : networks) networks_.push_back(parse(text));
}

Allowlist::Network Allowlist::parse(const std::string& text) {
  const auto slash = text.find('/');
  const std::string address = text.substr(0, slash);
  Network network{};
  if (inet_pton(AF_INET, address.c_str(), network.bytes.data()) == 1) {
    network.family = AF_INET;
  } else if (inet_pton(AF_INET6, address.c_str(), network.bytes.data()) == 1) {
    network.family = AF_INET6;
  } else {
    throw std::invalid_argument("\"" + text + "\" is not a network: expected a.b.c.d/n or an IPv6 address/n");
  }
  const int max_prefix = network.family == AF_INET ? 32 : 128;
  network.prefix = max_prefix;
  if (slash != std::string::npos) {
    const char* begin = text.data() + slash + 1;
    const char* end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(begin, end, network.prefix);
    if (begin == end || error != std::errc{} || ptr != end || network.prefix < 0 || network.prefix > max_prefix) {
      throw std::invalid_argument("\"" + text + "\": the prefix after / must be 0.." + std::to_string(max_prefix));
    }
  }
  return network;
}

bool Allowlist::allows(const sockaddr* sender) const {
  int family = sender->sa_family;
  const std::uint8_t* bytes = nullptr;
  if (family == AF_INET) {
    bytes = reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sender)->sin_addr);
  } else if (family == AF_INET6) {
    bytes = reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sender)->sin6_addr);
    if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes)) {
      family = AF_INET;
      bytes += kV4MappedPrefix.size();
    }
  } else {
    return false;
  }
  return std::any_of(networks_.begin(), networks_.end(), [&](const Network& n) {
    return n.family == family && prefix_matches(n.bytes.data(), bytes, n.prefix);
  });
}

std::string describe(const sockaddr* address) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return "(unknown family " + std::to_string(address->sa_family) + ")";
}

}  // namespace continuo::osc
