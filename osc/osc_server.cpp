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

int open_socket(const OscConfig& config, int type, int port, const char* port_key) {
  const sockaddr_storage address = resolve(config.bind, port);
  const int fd = socket(address.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const char* kind = type == SOCK_STREAM ? "TCP" : "UDP";
  if (fd < 0) throw OscError(std::string("osc: cannot open a ") + kind + " socket: " + std::strerror(errno));
  if (address.ss_family == AF_INET6) {
    const int off = 0;  // "::" also takes IPv4 senders, matched against IPv4 networks
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (type == SOCK_STREAM) {
    const int on = 1;  // a restarted engine can listen again while old connections linger
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  const std::string where = describe(as_sockaddr(address)) + " (" + kind + ")";
  if (bind(fd, as_sockaddr(address), length_of(address)) != 0 || (type == SOCK_STREAM && listen(fd, 16) != 0)) {
    const int error = errno;
    const std::string why = std::strerror(error);
    close(fd);
    if (error != EADDRINUSE) throw OscError("osc: cannot listen on " + where + ": " + why + " (check osc.bind)");
    throw OscBindError("osc: cannot listen on " + where + ": " + why + " (set " + port_key +
                       " to a free port, or osc.enabled = false)");
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

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Compares without stopping at the first difference, so timing does not tell how much of
// a guess was right. secret is not empty.
bool same_secret(const std::string& given, const std::string& secret) {
  unsigned diff = given.size() == secret.size() ? 0u : 1u;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(secret[i % secret.size()]);
  }
  return diff == 0;
}

bool same_peer(const Peer& a, const Peer& b) {
  if (a.tcp != 0 || b.tcp != 0) return a.tcp == b.tcp;
  return a.address.ss_family == b.address.ss_family && std::memcmp(&a.address, &b.address, length_of(a.address)) == 0;
}

}  // namespace

OscServer::OscServer(const OscConfig& config, Controls& controls, LearnHooks learn, RecordHook record)
    : allow_(make_allowlist(config.allow)),
      controls_(controls),
      learn_(std::move(learn)),
      record_(std::move(record)),
      max_bytes_(static_cast<std::size_t>(config.max_message_bytes)),
      secret_(config.secret),
      max_clients_(static_cast<std::size_t>(config.tcp_max_clients)),
      limiter_(config.rate_limit, config.rate_burst),
      rate_limit_(config.rate_limit),
      buffer_(max_bytes_ + 1) {
  if (!config.udp && !config.tcp) throw OscError("osc: osc.udp and osc.tcp are both false: set osc.enabled = false");
  if (config.udp) {
    fd_ = open_socket(config, SOCK_DGRAM, config.port, "osc.port");
    port_ = config.port;
  }
  if (config.tcp) {
    tcp_port_ = config.tcp_port != 0 ? config.tcp_port : config.port;
    try {
      tcp_fd_ = open_socket(config, SOCK_STREAM, tcp_port_, config.tcp_port != 0 ? "osc.tcp_port" : "osc.port");
    } catch (...) {
      if (fd_ >= 0) close(fd_);
      throw;
    }
  }
  thread_ = std::thread([this] { loop(); });
  const std::string tcp = tcp_fd_ < 0 ? std::string()
                                      : "TCP port " + std::to_string(tcp_port_) +
                                            (secret_.empty() ? "" : " (with osc.secret)");
  log_info("osc: listening on ", config.bind, fd_ >= 0 ? " UDP port " + std::to_string(port_) : std::string(),
           fd_ >= 0 && tcp_fd_ >= 0 ? ", " : " ", tcp, ", answering ", config.allow.size(), " network(s)");
}

OscServer::~OscServer() {
  stop_.store(true);
  thread_.join();
  if (fd_ >= 0) close(fd_);
  if (tcp_fd_ >= 0) close(tcp_fd_);
  for (Connection& c : connections_) close(c.fd);
}

void OscServer::loop() {
  std::vector<pollfd> waiting;
  std::vector<Connection*> polled;
  while (!stop_.load(std::memory_order_relaxed)) {
    waiting.clear();
    polled.clear();
    if (fd_ >= 0) waiting.push_back({fd_, POLLIN, 0});
    if (tcp_fd_ >= 0) waiting.push_back({tcp_fd_, POLLIN, 0});
    const std::size_t first_connection = waiting.size();
    {
      std::lock_guard lock(peers_mutex_);
      for (Connection& c : connections_) {
        // A closing connection only writes what it owes; what it sends is not read.
        const short events = static_cast<short>((c.closing ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT));
        waiting.push_back({c.fd, events, 0});
        polled.push_back(&c);
      }
    }
    const int ready = poll(waiting.data(), waiting.size(), kPollMs);
    log_rate_limited(RateLimiter::Clock::now());
    if (ready <= 0) continue;
    std::size_t i = 0;
    if (fd_ >= 0 && waiting[i++].revents != 0) receive_udp();
    if (tcp_fd_ >= 0 && waiting[i++].revents != 0) accept_tcp();
    for (std::size_t k = 0; k < polled.size(); ++k) {
      const short revents = waiting[first_connection + k].revents;
      Connection& c = *polled[k];
      if (revents & POLLOUT) {
        std::lock_guard lock(peers_mutex_);
        flush(c);
      }
      if ((revents & (POLLHUP | POLLERR)) && c.closing) {
        std::lock_guard lock(peers_mutex_);
        c.out.clear();
      }
      if (revents & (POLLIN | POLLHUP | POLLERR)) read_tcp(c);
    }
    close_marked();
  }
}

void OscServer::receive_udp() {
  sockaddr_storage from{};
  socklen_t from_length = sizeof from;
  // MSG_TRUNC: the datagram's real length, so an oversize one is seen as such.
  const ssize_t got = recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_TRUNC | MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &from_length);
  if (got < 0) return;  // EAGAIN, or an ICMP error for an earlier reply: nothing to do
  if (!allow_.allows(as_sockaddr(from))) {
    not_allowed_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: dropped a packet from ", describe(as_sockaddr(from)), ": not in osc.allow");
    return;
  }
  if (static_cast<std::size_t>(got) > max_bytes_) {
    oversize_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: dropped a ", got, "-byte packet from ", describe(as_sockaddr(from)),
              ": over osc.max_message_bytes (", max_bytes_, ")");
    return;
  }
  handle(buffer_.data(), static_cast<std::size_t>(got), Peer{from, 0}, nullptr);
}

void OscServer::accept_tcp() {
  sockaddr_storage from{};
  socklen_t from_length = sizeof from;
  const int fd = accept4(tcp_fd_, reinterpret_cast<sockaddr*>(&from), &from_length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  const std::string who = describe(as_sockaddr(from));
  if (!allow_.allows(as_sockaddr(from))) {
    not_allowed_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: closed a TCP connection from ", who, ": not in osc.allow");
    close(fd);
    return;
  }
  std::lock_guard lock(peers_mutex_);
  if (connections_.size() >= max_clients_) {
    tcp_refused_.fetch_add(1, std::memory_order_relaxed);
    log_warn("osc: refused a TCP connection from ", who, ": ", max_clients_, " open already (osc.tcp_max_clients)");
    close(fd);
    return;
  }
  Connection& c = connections_.emplace_back();
  c.id = next_connection_++;
  c.fd = fd;
  c.address = from;
  c.authenticated = secret_.empty();
  tcp_accepted_.fetch_add(1, std::memory_order_relaxed);
  log_debug("osc: TCP connection from ", who);
}

// Reads what is there (once per poll round, so one busy client cannot starve the others)
// and dispatches every whole frame: a big-endian int32 length, then that many bytes.
void OscServer::read_tcp(Connection& c) {
  if (c.closing) return;
  const ssize_t got = recv(c.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    c.closing = true;  // the client hung up
    std::lock_guard lock(peers_mutex_);
    c.out.clear();
    return;
  }
  if (got < 0) return;
  c.in.insert(c.in.end(), buffer_.begin(), buffer_.begin() + got);
  std::size_t pos = 0;
  while (!c.closing && c.in.size() - pos >= 4) {
    const std::uint32_t length = read_be32(c.in.data() + pos);
    if (length > max_bytes_) {
      // The stream cannot be trusted past a frame we will not read: hang up.
      oversize_.fetch_add(1, std::memory_order_relaxed);
      tcp_closed_.fetch_add(1, std::memory_order_relaxed);
      log_warn("osc: closed the TCP connection from ", describe(as_sockaddr(c.address)), ": a ", length,
               "-byte packet is over osc.max_message_bytes (", max_bytes_, ")");
      c.closing = true;
      break;
    }
    if (c.in.size() - pos - 4 < length) break;  // the rest has not arrived yet
    handle(c.in.data() + pos + 4, length, Peer{c.address, c.id}, &c);
    pos += 4 + length;
  }
  c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
}

void OscServer::flush(Connection& c) {
  std::size_t sent = 0;
  while (sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + sent, c.out.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      c.out.clear();  // the client is gone: nothing will ever be written
      c.closing = true;
      return;
    }
    if (n <= 0) break;  // full: POLLOUT calls again
    sent += static_cast<std::size_t>(n);
  }
  c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(sent));
}

void OscServer::close_marked() {
  std::lock_guard lock(peers_mutex_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->closing || !it->out.empty()) {
      ++it;
      continue;
    }
    const std::uint64_t id = it->id;
    const auto gone = [id](const Peer& p) { return p.tcp == id; };
    std::erase_if(subscribers_, gone);
    std::erase_if(analysis_subscribers_, gone);
    analysis_changed();
    close(it->fd);
    log_debug("osc: TCP connection from ", describe(as_sockaddr(it->address)), " closed");
    it = connections_.erase(it);
  }
}

void OscServer::handle(const std::uint8_t* data, std::size_t size, const Peer& sender, Connection* connection) {
  std::vector<Message> messages;
  const std::string why = parse_packet({data, size}, messages);
  if (!why.empty()) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    log_debug("osc: dropped a ", size, "-byte packet from ", describe(as_sockaddr(sender.address)), ": ", why);
    return;
  }
  const OscCounters counted = counters();
  CommandContext context{controls_, [&](bool on) { return subscribe(subscribers_, "/continuo/notify", sender, on); },
                         counted.dropped()};
  context.messages_rate_limited = counted.rate_limited;
  context.subscribe_analysis = [&](bool on) {
    return subscribe(analysis_subscribers_, "/continuo/subscribe/analysis", sender, on);
  };
  context.reply_later = [this, sender](const Message& reply) { send(reply, sender); };
  if (learn_.arm) {
    context.learn = [this, sender](const std::string& param) {
      return learn_.arm(param, [this, sender](const Message& reply) { send(reply, sender); });
    };
    context.learn_cancel = learn_.cancel;
  }
  context.record = record_;
  if (connection != nullptr && !secret_.empty()) {
    context.authenticate = [this, connection](const std::string& secret) { return authenticate(*connection, secret); };
  }
  const auto now = RateLimiter::Clock::now();
  for (const Message& message : messages) {
    if (!limiter_.allow(sender.address, now)) {
      note_rate_limited(sender, now);
      continue;
    }
    Message reply;
    if (connection != nullptr && !connection->authenticated && message.address != "/continuo/auth") {
      reply = {"/fail", {Arg::string(message.address), Arg::string("not authenticated: send /continuo/auth s "
                                                                    "with osc.secret first")}};
    } else {
      reply = dispatch(message, context);
    }
    if (!reply.address.empty()) send(reply, sender);
    messages_.fetch_add(1, std::memory_order_relaxed);
    if (connection != nullptr && connection->closing) break;
  }
}

void OscServer::note_rate_limited(const Peer& sender, RateLimiter::Clock::time_point now) {
  rate_limited_.fetch_add(1, std::memory_order_relaxed);
  ++rate_limited_unlogged_;
  rate_limited_latest_ = sender.address;
  log_rate_limited(now);
}

// At most one line a second; the loop calls it too, so the last drops of a burst are told.
void OscServer::log_rate_limited(RateLimiter::Clock::time_point now) {
  if (rate_limited_unlogged_ == 0 || now - rate_logged_ < std::chrono::seconds(1)) return;
  log_warn("osc: dropped ", rate_limited_unlogged_, " message(s) unanswered over osc.rate_limit (", rate_limit_,
           " a second per sender) since the last such line; the latest from ", describe(as_sockaddr(rate_limited_latest_)));
  rate_logged_ = now;
  rate_limited_unlogged_ = 0;
}

ControlResult OscServer::authenticate(Connection& c, const std::string& secret) {
  if (same_secret(secret, secret_)) {
    c.authenticated = true;
    return {};
  }
  // One guess per connection: the reply goes out, then the connection closes.
  c.authenticated = false;
  c.closing = true;
  tcp_closed_.fetch_add(1, std::memory_order_relaxed);
  log_warn("osc: wrong osc.secret from ", describe(as_sockaddr(c.address)), "; closing its TCP connection");
  return "wrong secret; the connection closes";
}

void OscServer::send(const Message& message, const Peer& to) {
  if (to.tcp == 0) {
    send_locked(message, to);  // a UDP datagram needs no lock
    return;
  }
  std::lock_guard lock(peers_mutex_);
  send_locked(message, to);
}

// For TCP the caller holds peers_mutex_.
void OscServer::send_locked(const Message& message, const Peer& to) {
  const std::vector<std::uint8_t> bytes = serialise(message);
  if (to.tcp == 0) {
    // A reply that cannot go (the sender's buffer is full, or it went away) is not retried:
    // UDP promises nothing, and the engine must not wait for a client.
    if (fd_ >= 0) sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT, as_sockaddr(to.address), length_of(to.address));
    return;
  }
  const auto found = std::find_if(connections_.begin(), connections_.end(),
                                  [&](const Connection& c) { return c.id == to.tcp; });
  if (found == connections_.end()) return;  // it closed meanwhile
  Connection& c = *found;
  if (c.out.size() + 4 + bytes.size() > kMaxPendingReplyBytes) {
    if (!c.closing) {
      tcp_closed_.fetch_add(1, std::memory_order_relaxed);
      log_warn("osc: closed the TCP connection from ", describe(as_sockaddr(c.address)), ": it leaves ",
               c.out.size(), " bytes of replies unread");
    }
    c.closing = true;
    c.out.clear();
    return;
  }
  const auto length = static_cast<std::uint32_t>(bytes.size());
  const std::uint8_t prefix[4] = {static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
                                  static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
  c.out.insert(c.out.end(), prefix, prefix + 4);
  c.out.insert(c.out.end(), bytes.begin(), bytes.end());
  flush(c);
}

ControlResult OscServer::subscribe(std::vector<Peer>& list, const char* command, const Peer& sender, bool on) {
  std::lock_guard lock(peers_mutex_);
  const auto found = std::find_if(list.begin(), list.end(), [&](const Peer& p) { return same_peer(p, sender); });
  if (!on) {
    if (found != list.end()) list.erase(found);
    analysis_changed();
    return {};
  }
  if (found != list.end()) return {};
  if (list.size() >= kMaxSubscribers) {
    return "too many subscribers (" + std::to_string(kMaxSubscribers) + "); another must send " + command + " 0";
  }
  list.push_back(sender);
  analysis_changed();
  return {};
}

void OscServer::analysis_changed() {
  const bool wanted = !analysis_subscribers_.empty();
  if (wanted == analysis_wanted_) return;
  analysis_wanted_ = wanted;
  if (analysis_listener_) analysis_listener_(wanted);
}

void OscServer::on_analysis_subscribers(std::function<void(bool)> listener) {
  std::lock_guard lock(peers_mutex_);
  analysis_listener_ = std::move(listener);
  if (analysis_listener_) analysis_listener_(analysis_wanted_);
}

void OscServer::notify(const std::string& event, const std::string& text) {
  const Message message{"/continuo/" + event, {Arg::string(text)}};
  std::lock_guard lock(peers_mutex_);
  for (const Peer& subscriber : subscribers_) send_locked(message, subscriber);
}

bool OscServer::has_analysis_subscribers() {
  std::lock_guard lock(peers_mutex_);
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
  std::lock_guard lock(peers_mutex_);
  for (const Peer& subscriber : analysis_subscribers_) send_locked(message, subscriber);
}

OscCounters OscServer::counters() const {
  return {messages_.load(),     not_allowed_.load(), oversize_.load(),  malformed_.load(),
          tcp_accepted_.load(), tcp_refused_.load(), tcp_closed_.load(), rate_limited_.load()};
}

}  // namespace continuo::osc
