// jack_record: the listener of the integration tests. A JACK client with two input ports
// that records exactly --seconds of audio from the ports it is told to connect to and
// writes it as interleaved float32 (native endian, L R L R ...) to --out.
//
//   jack_record [--server NAME] [--client NAME] --connect PORT_L --connect PORT_R
//               --seconds S --out FILE.f32 [--timeout S]
//
// Recording starts at the first process cycle in which both connections are in effect. The
// buffer is allocated before activation; the process callback only copies samples.
// On success prints "sample_rate=R frames=N" and exits 0; otherwise prints the reason
// to stderr and exits non-zero.

#include <jack/jack.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Args {
  std::string server;
  std::string client = "jack_record";
  std::vector<std::string> connect;
  double seconds = -1.0;
  double timeout = -1.0;  // <0: seconds * 2 + 20
  std::string out;
};

struct Recorder {
  jack_port_t* ports[2] = {nullptr, nullptr};
  std::vector<float> buffer;  // interleaved, total frames * 2, allocated before activation
  std::size_t total = 0;
  std::atomic<bool> armed{false};
  std::atomic<std::size_t> written{0};
  std::atomic<bool> server_gone{false};
};

int process(jack_nframes_t nframes, void* arg) {
  auto* rec = static_cast<Recorder*>(arg);
  if (!rec->armed.load(std::memory_order_acquire)) return 0;
  const std::size_t done = rec->written.load(std::memory_order_relaxed);
  // jack_connect returns before the server's graph has switched; start with the first
  // cycle that has both connections in effect, so no frame holds only one channel.
  if (done == 0 && (jack_port_connected(rec->ports[0]) <= 0 || jack_port_connected(rec->ports[1]) <= 0)) return 0;
  if (done >= rec->total) return 0;
  const auto* left = static_cast<const float*>(jack_port_get_buffer(rec->ports[0], nframes));
  const auto* right = static_cast<const float*>(jack_port_get_buffer(rec->ports[1], nframes));
  const std::size_t n = std::min<std::size_t>(nframes, rec->total - done);
  float* out = rec->buffer.data() + 2 * done;
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = left[i];
    out[2 * i + 1] = right[i];
  }
  rec->written.store(done + n, std::memory_order_release);
  return 0;
}

void on_shutdown(void* arg) { static_cast<Recorder*>(arg)->server_gone.store(true); }

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "jack_record: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: jack_record [--server NAME] [--client NAME] --connect PORT_L --connect PORT_R "
               "--seconds S --out FILE.f32 [--timeout S]\n");
  std::exit(2);
}

double parse_seconds(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value <= 0.0)
    usage_error(flag + " needs a positive number of seconds, got '" + text + "'");
  return value;
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf(
          "usage: jack_record [--server NAME] [--client NAME] --connect PORT_L --connect PORT_R "
          "--seconds S --out FILE.f32 [--timeout S]\n");
      std::exit(0);
    }
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--server") args.server = value;
    else if (flag == "--client") args.client = value;
    else if (flag == "--connect") args.connect.push_back(value);
    else if (flag == "--seconds") args.seconds = parse_seconds(flag, value);
    else if (flag == "--timeout") args.timeout = parse_seconds(flag, value);
    else if (flag == "--out") args.out = value;
    else usage_error("unknown option " + flag);
  }
  if (args.connect.size() != 2) usage_error("give exactly two --connect ports (left, right)");
  if (args.seconds <= 0.0) usage_error("--seconds is required");
  if (args.out.empty()) usage_error("--out is required");
  if (args.timeout < 0.0) args.timeout = args.seconds * 2.0 + 20.0;
  return args;
}

int fail(jack_client_t* client, const std::string& message) {
  std::fprintf(stderr, "jack_record: %s\n", message.c_str());
  if (client != nullptr) jack_client_close(client);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);

  // Check the output path before taking the server's time.
  std::FILE* file = std::fopen(args.out.c_str(), "wb");
  if (file == nullptr) {
    std::fprintf(stderr, "jack_record: cannot open %s for writing: %s\n", args.out.c_str(), std::strerror(errno));
    return 1;
  }

  jack_status_t status{};
  int options = JackNoStartServer;
  if (!args.server.empty()) options |= JackServerName;
  jack_client_t* client = args.server.empty()
                              ? jack_client_open(args.client.c_str(), static_cast<jack_options_t>(options), &status)
                              : jack_client_open(args.client.c_str(), static_cast<jack_options_t>(options), &status,
                                                 args.server.c_str());
  if (client == nullptr) {
    std::fclose(file);
    std::fprintf(stderr, "jack_record: cannot open a client on JACK server '%s' (status 0x%x)%s\n",
                 args.server.empty() ? "(default)" : args.server.c_str(), static_cast<unsigned>(status),
                 (status & JackServerFailed) ? ": no server running" : "");
    return 1;
  }

  Recorder rec;
  const jack_nframes_t rate = jack_get_sample_rate(client);
  rec.total = static_cast<std::size_t>(std::llround(args.seconds * rate));
  rec.buffer.assign(rec.total * 2, 0.0f);

  const char* names[2] = {"in_l", "in_r"};
  for (int c = 0; c < 2; ++c) {
    rec.ports[c] = jack_port_register(client, names[c], JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    if (rec.ports[c] == nullptr) {
      std::fclose(file);
      return fail(client, std::string("cannot register port ") + names[c]);
    }
  }
  jack_set_process_callback(client, process, &rec);
  jack_on_shutdown(client, on_shutdown, &rec);
  if (jack_activate(client) != 0) {
    std::fclose(file);
    return fail(client, "cannot activate the client");
  }
  for (int c = 0; c < 2; ++c) {
    const std::string source = args.connect[c];
    if (jack_port_by_name(client, source.c_str()) == nullptr) {
      std::fclose(file);
      return fail(client, "no such port: " + source);
    }
    const int rc = jack_connect(client, source.c_str(), jack_port_name(rec.ports[c]));
    if (rc != 0 && rc != EEXIST) {
      std::fclose(file);
      return fail(client, "cannot connect " + source + " to " + jack_port_name(rec.ports[c]));
    }
  }
  rec.armed.store(true, std::memory_order_release);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(args.timeout);
  while (rec.written.load(std::memory_order_acquire) < rec.total) {
    if (rec.server_gone.load()) {
      std::fclose(file);
      std::fprintf(stderr, "jack_record: the JACK server went away after %zu of %zu frames\n",
                   rec.written.load(), rec.total);
      return 1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::fclose(file);
      return fail(client, "timed out after " + std::to_string(args.timeout) + " s with " +
                              std::to_string(rec.written.load()) + " of " + std::to_string(rec.total) + " frames");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  jack_deactivate(client);
  jack_client_close(client);

  const std::size_t count = rec.total * 2;
  const bool ok = std::fwrite(rec.buffer.data(), sizeof(float), count, file) == count;
  if (std::fclose(file) != 0 || !ok) {
    std::fprintf(stderr, "jack_record: cannot write %s: %s\n", args.out.c_str(), std::strerror(errno));
    return 1;
  }
  std::printf("sample_rate=%u frames=%zu\n", static_cast<unsigned>(rate), rec.total);
  return 0;
}
