// jack_midi_send: the MIDI controller of the integration tests. A JACK client with one MIDI
// output that sends the given raw events, in order, to the port it is told to connect to.
//
//   jack_midi_send [--server NAME] [--client NAME] --connect PORT [--per-cycle N]
//                  [--repeat N] EVENT...
//
// Each EVENT is one JACK MIDI event in hex, bytes separated by spaces, colons or nothing
// ("90 3c 64", "903c64"); it may be anything, garbage included, up to 4096 bytes. At most
// --per-cycle events (default 1) go out per process cycle; --repeat sends the whole list
// N times. Sending starts at the first cycle with the connection in effect. Prints
// "sent=N" and exits 0 once every event was written (and one more cycle ran); events the
// port buffer had no room for are counted as "lost=N".

#include <jack/jack.h>
#include <jack/midiport.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Sender {
  jack_port_t* port = nullptr;
  std::vector<std::vector<std::uint8_t>> events;  // built before activation, read-only after
  std::size_t per_cycle = 1;
  std::atomic<bool> armed{false};
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> lost{0};
  std::atomic<bool> drained{false};  // a cycle ran after the last event was written
  std::atomic<bool> server_gone{false};
};

int process(jack_nframes_t nframes, void* arg) {
  auto* s = static_cast<Sender*>(arg);
  void* buffer = jack_port_get_buffer(s->port, nframes);
  jack_midi_clear_buffer(buffer);
  if (!s->armed.load(std::memory_order_acquire)) return 0;
  std::size_t next = s->next.load(std::memory_order_relaxed);
  if (next == 0 && jack_port_connected(s->port) <= 0) return 0;
  if (next >= s->events.size()) {
    s->drained.store(true, std::memory_order_release);
    return 0;
  }
  for (std::size_t n = 0; n < s->per_cycle && next < s->events.size(); ++n, ++next) {
    const auto& event = s->events[next];
    // Spread over the cycle so the receiver sees distinct, ordered times.
    const auto time = static_cast<jack_nframes_t>(n * nframes / s->per_cycle);
    if (jack_midi_event_write(buffer, time, event.data(), event.size()) != 0) s->lost.fetch_add(1);
  }
  s->next.store(next, std::memory_order_release);
  return 0;
}

void on_shutdown(void* arg) { static_cast<Sender*>(arg)->server_gone.store(true); }

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "jack_midi_send: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: jack_midi_send [--server NAME] [--client NAME] --connect PORT [--per-cycle N] "
               "[--repeat N] EVENT...\n");
  std::exit(2);
}

std::vector<std::uint8_t> parse_hex(const std::string& text) {
  std::vector<std::uint8_t> bytes;
  std::string digits;
  for (const char c : text) {
    if (c == ' ' || c == ':' || c == ',') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) usage_error("not hex: '" + text + "'");
    digits += c;
  }
  if (digits.empty() || digits.size() % 2 != 0) usage_error("an event needs whole bytes: '" + text + "'");
  if (digits.size() / 2 > 4096) usage_error("an event may have at most 4096 bytes");
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

std::size_t parse_count(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 1 || value > 10000000) usage_error(flag + " needs a count >= 1");
  return static_cast<std::size_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  std::string server;
  std::string client_name = "jack_midi_send";
  std::string connect;
  std::size_t repeat = 1;
  Sender sender;
  std::vector<std::vector<std::uint8_t>> list;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      list.push_back(parse_hex(arg));
      continue;
    }
    if (i + 1 >= argc) usage_error(arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--server") server = value;
    else if (arg == "--client") client_name = value;
    else if (arg == "--connect") connect = value;
    else if (arg == "--per-cycle") sender.per_cycle = parse_count(arg, value);
    else if (arg == "--repeat") repeat = parse_count(arg, value);
    else usage_error("unknown option " + arg);
  }
  if (connect.empty()) usage_error("--connect is required");
  if (list.empty()) usage_error("give at least one EVENT");
  for (std::size_t r = 0; r < repeat; ++r) sender.events.insert(sender.events.end(), list.begin(), list.end());

  jack_status_t status{};
  const int options = JackNoStartServer | (server.empty() ? 0 : JackServerName);
  jack_client_t* client =
      jack_client_open(client_name.c_str(), static_cast<jack_options_t>(options), &status, server.c_str());
  if (client == nullptr) {
    std::fprintf(stderr, "jack_midi_send: cannot open a client (status 0x%x)\n", static_cast<unsigned>(status));
    return 1;
  }
  sender.port = jack_port_register(client, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
  if (sender.port == nullptr) {
    std::fprintf(stderr, "jack_midi_send: cannot register the MIDI port\n");
    jack_client_close(client);
    return 1;
  }
  jack_set_process_callback(client, process, &sender);
  jack_on_shutdown(client, on_shutdown, &sender);
  if (jack_activate(client) != 0) {
    std::fprintf(stderr, "jack_midi_send: cannot activate\n");
    jack_client_close(client);
    return 1;
  }
  const int rc = jack_connect(client, jack_port_name(sender.port), connect.c_str());
  if (rc != 0 && rc != EEXIST) {
    std::fprintf(stderr, "jack_midi_send: cannot connect to %s\n", connect.c_str());
    jack_client_close(client);
    return 1;
  }
  sender.armed.store(true, std::memory_order_release);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!sender.drained.load(std::memory_order_acquire)) {
    if (sender.server_gone.load() || std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "jack_midi_send: %s after %zu of %zu events\n",
                   sender.server_gone.load() ? "the server went away" : "timed out", sender.next.load(),
                   sender.events.size());
      jack_client_close(client);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  jack_deactivate(client);
  jack_client_close(client);
  std::printf("sent=%zu lost=%zu\n", sender.events.size(), sender.lost.load());
  return 0;
}
