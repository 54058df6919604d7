#include "engine/jack_client.hpp"

#include <jack/midiport.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "engine/log.hpp"
#include "engine/realtime.hpp"

namespace continuo {
namespace {

std::string server_label(const JackConfig& config) {
  if (!config.server_name.empty()) return config.server_name;
  const char* env = std::getenv("JACK_DEFAULT_SERVER");
  return env != nullptr ? env : "default";
}

std::string open_failure(const JackConfig& config, jack_status_t status) {
  const std::string server = server_label(config);
  if ((status & JackServerFailed) != 0) {
    return "no JACK server '" + server +
           "' is running. Start one first, for example:\n"
           "  jackd -d alsa -d hw:0 -r 48000 -p 256    (with a sound card)\n"
           "  jackd -d dummy -r 48000 -p 256           (without one)\n"
           "or run under PipeWire's JACK (pw-jack continuo run). `make run` starts one for you.";
  }
  if ((status & JackNameNotUnique) != 0) {
    return "a JACK client named '" + config.client_name + "' already exists on server '" + server +
           "'; choose another with --client-name";
  }
  return "cannot open JACK client '" + config.client_name + "' on server '" + server + "' (JACK status flags " +
         std::to_string(static_cast<unsigned>(status)) + ")";
}

// libjack prints to stderr on its own, a dozen lines for every failed reconnect attempt;
// route it into our log, where it belongs at debug level.
void route_libjack_messages() {
  static const bool routed = [] {
    jack_set_error_function([](const char* message) { log_debug("libjack: ", message); });
    jack_set_info_function([](const char* message) { log_debug("libjack: ", message); });
    return true;
  }();
  (void)routed;
}

}  // namespace

JackClient::JackClient(const JackConfig& config, JackEvents& events) : events_(events) {
  route_libjack_messages();
  jack_status_t status{};
  const int options = JackNoStartServer | JackUseExactName | (config.server_name.empty() ? 0 : JackServerName);
  client_ = jack_client_open(config.client_name.c_str(), static_cast<jack_options_t>(options), &status,
                             config.server_name.c_str());
  if (client_ == nullptr) throw JackError(open_failure(config, status));
  events_.sample_rate.store(static_cast<int>(jack_get_sample_rate(client_)));
  events_.buffer_frames.store(static_cast<int>(jack_get_buffer_size(client_)));
  try {
    register_ports(config);
    install_callbacks();
  } catch (...) {
    jack_client_close(client_);
    throw;
  }
}

JackClient::~JackClient() {
  // After a server shutdown the client is dead already; closing only frees it.
  if (!events_.server_gone.load()) jack_deactivate(client_);
  jack_client_close(client_);
}

void JackClient::register_ports(const JackConfig& config) {
  const auto add = [&](const std::string& name, const char* type, unsigned long flags) {
    jack_port_t* port = jack_port_register(client_, name.c_str(), type, flags, 0);
    if (port == nullptr) throw JackError("cannot register JACK port '" + name + "'");
    return port;
  };
  for (std::size_t ch = 0; ch < 2; ++ch) {
    outputs_[ch] = add(config.output_ports[ch], JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput);
    inputs_[ch] = add(config.input_ports[ch], JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput);
  }
  midi_in_ = add(config.midi_port, JACK_DEFAULT_MIDI_TYPE, JackPortIsInput);
}

void JackClient::install_callbacks() {
  jack_set_process_callback(client_, on_process, this);
  jack_on_info_shutdown(client_, on_shutdown, this);
  jack_set_xrun_callback(client_, on_xrun, this);
  jack_set_sample_rate_callback(client_, on_sample_rate, this);
  jack_set_buffer_size_callback(client_, on_buffer_size, this);
  jack_set_latency_callback(client_, on_latency, this);
  jack_set_port_connect_callback(client_, on_port_connect, this);
}

void JackClient::activate(Playback& playback, jack_nframes_t latency_frames, MidiRing* midi,
                          InputCapture* capture) {
  playback_ = &playback;
  midi_ring_ = midi;
  capture_ = capture;
  latency_frames_ = latency_frames;
  if (jack_activate(client_) != 0) throw JackError("cannot activate JACK client '" + name() + "'");
}

int JackClient::on_process(jack_nframes_t frames, void* self) {
  RealtimeScope realtime;
  auto* client = static_cast<JackClient*>(self);
  auto* left = static_cast<float*>(jack_port_get_buffer(client->outputs_[0], frames));
  auto* right = static_cast<float*>(jack_port_get_buffer(client->outputs_[1], frames));
  client->playback_->render(left, right, frames);
  if (client->midi_ring_ != nullptr) client->read_midi(frames);
  if (client->capture_ != nullptr) client->capture_inputs(frames);
  return 0;
}

// Audio thread. jack_port_get_buffer only returns the port's buffer (silence when nothing
// is connected); InputCapture::write copies into preallocated memory.
void JackClient::capture_inputs(jack_nframes_t frames) {
  const auto* left = static_cast<const float*>(jack_port_get_buffer(inputs_[0], frames));
  const auto* right = static_cast<const float*>(jack_port_get_buffer(inputs_[1], frames));
  capture_->write(left, right, frames);
}

// Audio thread. Only copies: MidiRing::push is wait-free and counts what it drops; the
// libjack calls here read the port buffer and allocate nothing. Parsing happens on
// MidiInput's thread.
void JackClient::read_midi(jack_nframes_t frames) {
  void* buffer = jack_port_get_buffer(midi_in_, frames);
  const jack_nframes_t cycle_start = jack_last_frame_time(client_);
  const std::uint32_t count = jack_midi_get_event_count(buffer);
  for (std::uint32_t i = 0; i < count; ++i) {
    jack_midi_event_t event;
    if (jack_midi_event_get(&event, buffer, i) != 0) continue;
    midi_ring_->push(cycle_start + event.time, event.buffer, event.size);
  }
}

void JackClient::on_shutdown(jack_status_t, const char*, void* self) {
  static_cast<JackClient*>(self)->events_.server_gone.store(true);
}

int JackClient::on_xrun(void* self) {
  static_cast<JackClient*>(self)->events_.xruns.fetch_add(1);
  return 0;
}

int JackClient::on_sample_rate(jack_nframes_t rate, void* self) {
  static_cast<JackClient*>(self)->events_.sample_rate.store(static_cast<int>(rate));
  return 0;
}

int JackClient::on_buffer_size(jack_nframes_t frames, void* self) {
  static_cast<JackClient*>(self)->events_.buffer_frames.store(static_cast<int>(frames));
  return 0;
}

void JackClient::on_port_connect(jack_port_id_t, jack_port_id_t, int, void* self) {
  static_cast<JackClient*>(self)->events_.connections_changed.store(true);
}

// JACK's rule for a client with internal latency: what leaves our outputs reflects input
// (MIDI and audio) that arrived latency_frames earlier. So outputs' capture latency is the
// inputs' plus ours, and inputs' playback latency is the outputs' plus ours: a MIDI note
// arriving now is heard that much later.
void JackClient::on_latency(jack_latency_callback_mode_t mode, void* self) {
  auto* client = static_cast<JackClient*>(self);
  const bool capture = mode == JackCaptureLatency;
  const std::vector<jack_port_t*> inputs{client->inputs_[0], client->inputs_[1], client->midi_in_};
  const std::vector<jack_port_t*> outputs{client->outputs_[0], client->outputs_[1]};
  const std::vector<jack_port_t*>& from = capture ? inputs : outputs;
  const std::vector<jack_port_t*>& to = capture ? outputs : inputs;
  jack_latency_range_t widest{UINT32_MAX, 0};
  for (jack_port_t* port : from) {
    jack_latency_range_t range{};
    jack_port_get_latency_range(port, mode, &range);
    widest.min = std::min(widest.min, range.min);
    widest.max = std::max(widest.max, range.max);
  }
  widest.min += client->latency_frames_;
  widest.max += client->latency_frames_;
  for (jack_port_t* port : to) jack_port_set_latency_range(port, mode, &widest);
}

int JackClient::sample_rate() const { return events_.sample_rate.load(); }
int JackClient::buffer_frames() const { return events_.buffer_frames.load(); }
float JackClient::dsp_load_percent() const { return jack_cpu_load(client_); }
std::string JackClient::name() const { return jack_get_client_name(client_); }

std::vector<jack_port_t*> JackClient::own_ports() const {
  return {outputs_[0], outputs_[1], inputs_[0], inputs_[1], midi_in_};
}

jack_port_t* JackClient::port_by_short_name(const std::string& name) const {
  for (jack_port_t* port : own_ports()) {
    if (name == jack_port_short_name(port)) return port;
  }
  return nullptr;
}

std::vector<PortConnection> JackClient::connections() const {
  std::vector<PortConnection> result;
  for (jack_port_t* port : own_ports()) {
    const char** others = jack_port_get_all_connections(client_, port);
    if (others == nullptr) continue;
    for (const char** other = others; *other != nullptr; ++other) result.emplace_back(jack_port_short_name(port), *other);
    jack_free(static_cast<void*>(others));
  }
  return result;
}

bool JackClient::connect(const PortConnection& connection) {
  jack_port_t* ours = port_by_short_name(connection.first);
  if (ours == nullptr) {
    log_warn("jack: no port '", connection.first, "' to connect");
    return false;
  }
  const std::string our_name = jack_port_name(ours);
  const bool output = (jack_port_flags(ours) & JackPortIsOutput) != 0;
  const std::string& source = output ? our_name : connection.second;
  const std::string& destination = output ? connection.second : our_name;
  const int rc = jack_connect(client_, source.c_str(), destination.c_str());
  if (rc == 0 || rc == EEXIST) return true;
  log_warn("jack: cannot connect ", source, " -> ", destination, " (port gone?); continuing without it");
  return false;
}

}  // namespace continuo
