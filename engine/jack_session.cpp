#include "engine/jack_session.hpp"

#include "engine/log.hpp"

namespace continuo {

JackSession::JackSession(const JackConfig& config) : config_(config) { open_client(); }

void JackSession::open_client() {
  auto events = std::make_unique<JackEvents>();
  auto client = std::make_unique<JackClient>(config_, *events);
  const std::lock_guard lock(replace_mutex_);
  client_ = std::move(client);
  events_ = std::move(events);
}

bool JackSession::connected() const {
  const std::lock_guard lock(replace_mutex_);
  return client_ != nullptr;
}

int JackSession::sample_rate() const {
  const std::lock_guard lock(replace_mutex_);
  return events_->sample_rate.load();
}

int JackSession::buffer_frames() const {
  const std::lock_guard lock(replace_mutex_);
  return events_->buffer_frames.load();
}

std::uint64_t JackSession::xruns() const {
  const std::lock_guard lock(replace_mutex_);
  return xruns_before_ + events_->xruns.load();
}

std::uint64_t JackSession::reconnects() const {
  const std::lock_guard lock(replace_mutex_);
  return reconnects_;
}

float JackSession::dsp_load_percent() const {
  const std::lock_guard lock(replace_mutex_);
  return client_ ? client_->dsp_load_percent() : 0.0f;
}

void JackSession::activate(Playback& playback, jack_nframes_t latency_frames, MidiRing* midi, InputCapture* capture) {
  playback_ = &playback;
  latency_frames_ = latency_frames;
  midi_ = midi;
  capture_ = capture;
  client_->activate(playback, latency_frames, midi, capture);
  log_info("jack: client '", client_->name(), "' active at ", sample_rate(), " Hz, ", buffer_frames(),
           " frames per period");
  if (!config_.auto_connect) return;
  for (std::size_t ch = 0; ch < config_.connect_outputs.size(); ++ch) {
    client_->connect({config_.output_ports[ch], config_.connect_outputs[ch]});
  }
}

void JackSession::poll() {
  if (client_ && events_->server_gone.load()) {
    log_warn("jack: server shut down; reconnecting every ", config_.reconnect_interval_ms, " ms");
    drop_client();
  }
  if (!client_) {
    try_reconnect();
    return;
  }
  if (events_->connections_changed.exchange(false)) remember_connections();
}

void JackSession::drop_client() {
  std::unique_ptr<JackClient> dead;
  {
    const std::lock_guard lock(replace_mutex_);
    xruns_before_ += events_->xruns.load();
    dead = std::move(client_);
  }
  dead.reset();  // closes the client outside the lock
  lost_at_ = std::chrono::steady_clock::now();
  next_attempt_ = lost_at_;
}

void JackSession::try_reconnect() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return;
  next_attempt_ = now + std::chrono::milliseconds(config_.reconnect_interval_ms);
  try {
    open_client();
  } catch (const JackError&) {
    return;  // server still away; the next attempt comes after the interval
  }
  // The new server starts without our old connections and maybe at another rate.
  playback_->restart_with_fade_in();
  client_->activate(*playback_, latency_frames_, midi_, capture_);
  for (const PortConnection& connection : saved_connections_) client_->connect(connection);
  {
    const std::lock_guard lock(replace_mutex_);
    ++reconnects_;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - lost_at_).count();
  log_info("jack: reconnected as '", client_->name(), "' after ", ms, " ms; re-patched ", saved_connections_.size(),
           " connections");
}

void JackSession::remember_connections() {
  saved_connections_ = client_->connections();
  log_debug("jack: ", saved_connections_.size(), " connections saved for re-patching");
}

}  // namespace continuo
