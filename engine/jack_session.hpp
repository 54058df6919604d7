#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/config.hpp"
#include "engine/jack_client.hpp"
#include "engine/playback.hpp"

namespace continuo {

// Keeps continuo connected to its JACK server across server restarts. JACK has no
// reconnect of its own: when the server goes away, poll() (called from the engine's main
// thread, never from a JACK callback) closes the dead client, retries opening every
// reconnect_interval_ms, and re-patches the connections our ports had before.
class JackSession {
 public:
  explicit JackSession(const JackConfig& config);  // opens the client; throws JackError

  // Starts audio; patches the configured outputs when auto_connect is set.
  // MIDI from the midi_in port goes to `midi`, and the audio inputs to `capture` (both
  // kept across reconnects), when given.
  void activate(Playback& playback, jack_nframes_t latency_frames, MidiRing* midi = nullptr,
                InputCapture* capture = nullptr);
  void poll();

  // Any thread but JACK's: status reads them from the OSC thread while poll() may be
  // replacing the client and its events on the main thread.
  bool connected() const;
  int sample_rate() const;
  int buffer_frames() const;
  std::uint64_t xruns() const;
  std::uint64_t reconnects() const;
  float dsp_load_percent() const;

 private:
  void open_client();
  void drop_client();
  void try_reconnect();
  void remember_connections();

  const JackConfig config_;
  // Held by the getters and, on the main thread, while client_ or events_ is replaced (not
  // while a client opens or closes, which may take long): never on a real-time thread.
  mutable std::mutex replace_mutex_;
  std::unique_ptr<JackEvents> events_;  // one set per client: callbacks of a dead one can't touch the next
  std::unique_ptr<JackClient> client_;
  Playback* playback_ = nullptr;
  MidiRing* midi_ = nullptr;
  InputCapture* capture_ = nullptr;
  jack_nframes_t latency_frames_ = 0;
  std::vector<PortConnection> saved_connections_;
  std::uint64_t xruns_before_ = 0;
  std::uint64_t reconnects_ = 0;
  std::chrono::steady_clock::time_point lost_at_;
  std::chrono::steady_clock::time_point next_attempt_;
};

}  // namespace continuo
