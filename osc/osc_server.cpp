#include "osc/osc_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/log.hpp"
#include "osc/address_map.hpp"
#include "osc/packet.hpp"

namespace continuo::osc {
namespace {

constexpr int kPollMs = 50;  // how soon the thread sees a stop request

socklen_t length_of(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

bool same_sender(const sockaddr_storage& a, const sockaddr_storage& b) {
  return a.ss_family == b.ss_family && std::memcmp(&a, &b, length_of(a)) == 0;
}

const sockaddr* as_sockaddr(const sockaddr_storage& address) { return reinterpret_cast<const sockaddr*>(&address); }

sockaddr_storage resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (error != 0) {
    throw OscError("osc.bind: \"" + host + "\" is not an IP address (" + gai_strerror(error) + ")");
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return address;
}

int open_socket(const OscConfig& config) {
  const sockaddr_storage address = resolve(config.bind, config.port);
  const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw OscError(std::string("osc: cannot open a UDP socket: ") + std::strerror(errno));
  if (address.ss_family == AF_INET6) {
    const int off = 0;  // "::" also takes IPv4 senders, matched against IPv4 networks
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (bind(fd, as_sockaddr(address), length_of(address)) != 0) {
    const int error = errno;
    const std::string why = std::strerror(error);
    close(fd);
    if (error != EADDRINUSE) {
      throw OscError("osc: cannot listen on " + describe(as_sockaddr(address)) + ": " + why + " (check osc.bind)");
    }
    throw OscBindError("osc: cannot listen on " + describe(as_sockaddr(address)) + ": " + why +
                   " (set osc.port to a free port, or osc.enabled = false)");
  }
  return fd;
}

Allowlist make_allowlist(const std::vector<std::string>& networks) {
  try {
    return Allowlist(networks);
  } catch (const std::invalid_argument& error) {
    throw OscError(std::string("osc.allow: ") + error.what());
  }
}

}  // namespace

OscServer::OscServer(const OscConfig& config, Controls& controls, LearnHooks learn)
    : allow_(make_allowlist(config.allow)),
      controls_(controls),
      learn_(std::move(learn)),
      max_bytes_(static_cast<std::size_t>(config.max_message_bytes)),
      fd_(open_socket(config)),
      port_(config.port),
      buffer_(max_bytes_ + 1) {
  thread_ = std::thread([this] { loop(); });
  log_info("osc: listening on ", config.bind, " port ", port_, " (UDP), answering ", config.allow.size(),
           " network(s)");
}

OscServer::~OscServer() {
  stop_.store(true);
  thread_.join();
  close(fd_);
}

void OscServer::loop() {
  pollfd waiting{fd_, POLLIN, 0};
  while (!stop_.load(std::memory_order_relaxed)) {
    waiting.revents = 0;
    if (poll(&waiting, 1, kPollMs) > 0) receive_one();
  }
}

void OscServer::receive_one() {
  sockaddr_storage sender{};
  socklen_t sender_length = sizeof sender;
  // MSG_TRUNC: the datagram's real length, so an oversize one is seen as such.
  const ssize_t got = recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_TRUNC | MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&sender), &sender_length);
  if (got < 0) return;  // EAGAIN, or an ICMP error for an earlier reply: nothing to do
  if (!allow_.allows(as_sockaddr(sender))) {
    not_allowed_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: dropped a packet from ", describe(as_sockaddr(sender)), ": not in osc.allow");
    return;
  }
  if (static_cast<std::size_t>(got) > max_bytes_) {
    oversize_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: dropped a ", got, "-byte packet from ", describe(as_sockaddr(sender)),
              ": over osc.max_message_bytes (", max_bytes_, ")");
    return;
  }
  handle(buffer_.data(), static_cast<std::size_t>(got), sender);
}

void OscServer::handle(const std::uint8_t* data, std::size_t size, const sockaddr_storage& sender) {
  std::vector<Message> messages;
  const std::string why = parse_packet({data, size}, messages);
  if (!why.empty()) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: dropped a ", size, "-byte packet from ", describe(as_sockaddr(sender)), ": ", why);
    return;
  }
  CommandContext context{controls_, [&](bool on) { return subscribe(subscribers_, "/continuo/notify", sender, on); },
                         counters().dropped()};
  context.subscribe_analysis = [&](bool on) {
    return subscribe(analysis_subscribers_, "/continuo/subscribe/analysis", sender, on);
  };
  if (learn_.arm) {
    context.learn = [this, sender](const std::string& param) {
      return learn_.arm(param, [this, sender](const Message& reply) { send(reply, sender); });
    };
    context.learn_cancel = learn_.cancel;
  }
  for (const Message& message : messages) {
    const Message reply = dispatch(message, context);
    if (!reply.address.empty()) send(reply, sender);
    messages_.fetch_add(1, std::memory_order_relaxed);
  }
}

void OscServer::send(const Message& message, const sockaddr_storage& to) {
  const std::vector<std::uint8_t> bytes = serialise(message);
  // A reply that cannot go (the sender's buffer is full, or it went away) is not retried:
  // UDP promises nothing, and the engine must not wait for a client.
  sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT, as_sockaddr(to), length_of(to));
}

ControlResult OscServer::subscribe(std::vector<sockaddr_storage>& list, const char* command,
                                   const sockaddr_storage& sender, bool on) {
  std::lock_guard lock(subscribers_mutex_);
  const auto found =
      std::find_if(list.begin(), list.end(), [&](const sockaddr_storage& s) { return same_sender(s, sender); });
  if (!on) {
    if (found != list.end()) list.erase(found);
    return {};
  }
  if (found != list.end()) return {};
  if (list.size() >= kMaxSubscribers) {
    return "too many subscribers (" + std::to_string(kMaxSubscribers) + "); another must send " + command + " 0";
  }
  list.push_back(sender);
  return {};
}

void OscServer::notify(const std::string& event, const std::string& text) {
  const Message message{"/continuo/" + event, {Arg::string(text)}};
  std::lock_guard lock(subscribers_mutex_);
  for (const sockaddr_storage& subscriber : subscribers_) send(message, subscriber);
}

bool OscServer::has_analysis_subscribers() {
  std::lock_guard lock(subscribers_mutex_);
  return !analysis_subscribers_.empty();
}

// Field order: loudness_db, onset, centroid_hz, chroma C..B (docs/osc.md).
void OscServer::send_analysis(const AnalysisFrame& frame) {
  Message message{"/continuo/analysis", {}};
  message.args.reserve(3 + frame.chroma.size());
  message.args.push_back(Arg::float32(frame.loudness_db));
  message.args.push_back(Arg::float32(frame.onset));
  message.args.push_back(Arg::float32(frame.centroid_hz));
  for (float c : frame.chroma) message.args.push_back(Arg::float32(c));
  std::lock_guard lock(subscribers_mutex_);
  for (const sockaddr_storage& subscriber : analysis_subscribers_) send(message, subscriber);
}

OscCounters OscServer::counters() const {
  return {messages_.load(), not_allowed_.load(), oversize_.load(), malformed_.load()};
}

}  // namespace continuo::osc
