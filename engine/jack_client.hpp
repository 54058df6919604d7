#pragma once

#include <jack/jack.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/config.hpp"
#include "engine/input_capture.hpp"
#include "engine/playback.hpp"
#include "midi/midi_ring.hpp"

namespace continuo {

struct JackError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Set by JACK's non-audio callbacks, read by the engine's main loop. JACK calls the
// shutdown callback like a signal handler, so all it may do is set a flag.
struct JackEvents {
  std::atomic<bool> server_gone{false};
  std::atomic<bool> connections_changed{false};
  std::atomic<std::uint64_t> xruns{0};
  std::atomic<int> sample_rate{0};
  std::atomic<int> buffer_frames{0};
};

// (one of our ports by its short name, the port at the other end by its full name)
using PortConnection = std::pair<std::string, std::string>;

// One connection to one JACK server: the ports, the callbacks and the process callback
// that feeds the outputs from Playback. Opening never starts a server.
class JackClient {
 public:
  JackClient(const JackConfig& config, JackEvents& events);
  ~JackClient();
  JackClient(const JackClient&) = delete;
  JackClient& operator=(const JackClient&) = delete;

  // Starts the process callback. latency_frames is what the engine adds to playback
  // latency: its lookahead plus the model's own delay. When midi is given, the process
  // callback copies every event arriving on the MIDI port into it (one producer: give a
  // ring to one active client at a time; it must outlive the client). When capture is
  // given, the process callback writes the two audio inputs into it (the same rules).
  void activate(Playback& playback, jack_nframes_t latency_frames, MidiRing* midi = nullptr,
                InputCapture* capture = nullptr);

  int sample_rate() const;
  int buffer_frames() const;
  float dsp_load_percent() const;
  std::string name() const;

  std::vector<PortConnection> connections() const;
  bool connect(const PortConnection& connection);  // false (and a warning) when it can't

 private:
  static int on_process(jack_nframes_t frames, void* self);
  void read_midi(jack_nframes_t frames);
  void capture_inputs(jack_nframes_t frames);
  static void on_shutdown(jack_status_t code, const char* reason, void* self);
  static int on_xrun(void* self);
  static int on_sample_rate(jack_nframes_t rate, void* self);
  static int on_buffer_size(jack_nframes_t frames, void* self);
  static void on_latency(jack_latency_callback_mode_t mode, void* self);
  static void on_port_connect(jack_port_id_t a, jack_port_id_t b, int connected, void* self);

  void register_ports(const JackConfig& config);
  void install_callbacks();
  std::vector<jack_port_t*> own_ports() const;
  jack_port_t* port_by_short_name(const std::string& name) const;

  JackEvents& events_;
  jack_client_t* client_ = nullptr;
  std::array<jack_port_t*, 2> outputs_{};
  std::array<jack_port_t*, 2> inputs_{};
  jack_port_t* midi_in_ = nullptr;
  Playback* playback_ = nullptr;
  MidiRing* midi_ring_ = nullptr;
  InputCapture* capture_ = nullptr;
  jack_nframes_t latency_frames_ = 0;
};

}  // namespace continuo
