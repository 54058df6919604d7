#include "osc/nsm_client.hpp"

#include <lo/lo.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "engine/log.hpp"
#include "osc/packet.hpp"

namespace continuo::osc {
namespace {

// None of NSM's optional capabilities (switch, dirty, progress, message, optional-gui):
// a new session means a restart, which is what a server does for such a client.
constexpr const char* kCapabilities = "";
constexpr int kApiMajor = 1;
constexpr int kApiMinor = 1;
constexpr std::size_t kMaxDatagram = 65536;
constexpr auto kWaitStep = std::chrono::milliseconds(20);

std::string lo_text(char* owned) {
  const std::unique_ptr<char, decltype(&std::free)> text(owned, &std::free);
  return text ? std::string(text.get()) : std::string();
}

bool is_text(const Message& m, std::size_t i) { return m.args.size() > i && m.args[i].type == 's'; }

// "/nsm/server/announce -2 incompatible API" for the log.
std::string describe_args(const Message& m) {
  std::string text;
  for (const Arg& arg : m.args) {
    text += text.empty() ? "" : " ";
    text += arg.type == 's' || arg.type == 'S' ? arg.text : std::to_string(arg.integer);
  }
  return text;
}

bool answers(const Message& m, const char* address, const char* command) {
  return m.address == address && is_text(m, 0) && m.args[0].text == command;
}

}  // namespace

NsmClient::NsmClient(const std::string& url) : url_(url), buffer_(kMaxDatagram) {
  const std::string expected =
      "NSM_URL=\"" + url + "\": expected osc.udp://host:port/ (as the session manager sets it)";
  if (lo_url_get_protocol_id(url.c_str()) != LO_UDP) throw NsmError(expected);
  const std::string host = lo_text(lo_url_get_hostname(url.c_str()));
  const std::string port = lo_text(lo_url_get_port(url.c_str()));
  if (host.empty() || port.empty()) throw NsmError(expected);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); error != 0) {
    throw NsmError("NSM_URL=\"" + url + "\": cannot resolve " + host + ":" + port + ": " + gai_strerror(error));
  }
  fd_ = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int connected = fd_ < 0 ? -1 : connect(fd_, found->ai_addr, found->ai_addrlen);
  const int error = errno;
  freeaddrinfo(found);
  if (connected != 0) {
    if (fd_ >= 0) close(fd_);
    throw NsmError("NSM_URL=\"" + url + "\": cannot open a UDP socket to it: " + std::strerror(error));
  }
}

NsmClient::~NsmClient() { close(fd_); }

void NsmClient::send(const Message& message) {
  const std::vector<std::uint8_t> bytes = serialise(message);
  if (::send(fd_, bytes.data(), bytes.size(), 0) < 0) {
    log_warn("nsm: cannot send ", message.address, " to ", url_, ": ", std::strerror(errno));
  }
}

std::optional<Message> NsmClient::receive(std::chrono::milliseconds timeout) {
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  const ssize_t got = recv(fd_, buffer_.data(), buffer_.size(), 0);
  if (got < 0 && errno == ECONNREFUSED) {
    throw NsmError("NSM_URL=\"" + url_ +
                   "\": nothing listens there (connection refused); is the session manager running?");
  }
  if (got < 0) return std::nullopt;
  std::vector<Message> messages;
  const std::string why = parse_packet({buffer_.data(), static_cast<std::size_t>(got)}, messages);
  if (!why.empty() || messages.size() != 1) {
    log_warn("nsm: ignored a packet from the session manager: ", why.empty() ? "not one message" : why);
    return std::nullopt;
  }
  return std::move(messages.front());
}

std::optional<NsmOpen> NsmClient::join(const std::function<bool()>& interrupted,
                                       std::chrono::milliseconds answer_timeout) {
  send({"/nsm/server/announce",
        {Arg::string("continuo"), Arg::string(kCapabilities), Arg::string("continuo"), Arg::int32(kApiMajor),
         Arg::int32(kApiMinor), Arg::int32(static_cast<std::int32_t>(getpid()))}});
  const auto deadline = std::chrono::steady_clock::now() + answer_timeout;
  bool announced = false;
  while (!interrupted()) {
    const std::optional<Message> m = receive(kWaitStep);
    if (!m) {
      if (!announced && std::chrono::steady_clock::now() > deadline) {
        throw NsmError("NSM_URL=\"" + url_ + "\": no answer to /nsm/server/announce within " +
                       std::to_string(answer_timeout.count()) + " ms; is the session manager running there?");
      }
    } else if (answers(*m, "/reply", "/nsm/server/announce")) {
      announced = true;
      log_info("nsm: announced to ", is_text(*m, 2) ? m->args[2].text : "a session manager", " at ", url_, ": ",
               is_text(*m, 1) ? m->args[1].text : "");
    } else if (answers(*m, "/error", "/nsm/server/announce")) {
      throw NsmError("NSM_URL=\"" + url_ + "\": the session manager refused the announce: " + describe_args(*m));
    } else if (m->address == "/nsm/client/open") {
      if (m->args.size() == 3 && is_text(*m, 0) && is_text(*m, 1) && is_text(*m, 2) && !m->args[0].text.empty() &&
          !m->args[2].text.empty()) {
        return NsmOpen{m->args[0].text, m->args[1].text, m->args[2].text};
      }
      refuse("/nsm/client/open", NsmCode::general, "expects s s s (path, display name, client id), got " + m->types());
    } else {
      handle(*m, [] { return std::string("no session is open yet"); });
    }
  }
  return std::nullopt;
}

void NsmClient::reply(const std::string& command, const std::string& message) {
  send({"/reply", {Arg::string(command), Arg::string(message)}});
}

void NsmClient::refuse(const std::string& command, NsmCode code, const std::string& why) {
  log_error("nsm: ", command, " refused: ", why);
  send({"/error", {Arg::string(command), Arg::int32(static_cast<std::int32_t>(code)), Arg::string(why)}});
}

void NsmClient::poll(const std::function<std::string()>& save) {
  try {
    while (const std::optional<Message> m = receive(std::chrono::milliseconds(0))) handle(*m, save);
  } catch (const NsmError& error) {
    log_warn("nsm: ", error.what());  // the server went away; we play on, as NSM clients do
  }
}

void NsmClient::handle(const Message& m, const std::function<std::string()>& save) {
  if (m.address == "/nsm/client/save") {
    const std::string why = save();
    if (why.empty()) {
      reply("/nsm/client/save", "saved");
    } else {
      refuse("/nsm/client/save", NsmCode::general, why);
    }
  } else if (m.address == "/nsm/client/open") {
    refuse("/nsm/client/open", NsmCode::not_now,
           "continuo cannot switch sessions while it runs (no :switch: capability); the server restarts it instead");
  } else if (m.address == "/error") {
    log_error("nsm: the session manager reports an error: ", describe_args(m));
  } else if (m.address == "/nsm/client/session_is_loaded") {
    log_info("nsm: the session is loaded");
  } else {
    log_debug("nsm: ignored ", m.address, " ", describe_args(m));
  }
}

}  // namespace continuo::osc
