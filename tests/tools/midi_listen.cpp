// midi_listen: continuo's MIDI path without a model — the engine's JackClient (whose
// process callback copies the midi_in port into a MidiRing) and MidiInput (thread,
// parser, sustain, CC map) feeding a sink that only counts. Built with the
// RealtimeSanitizer runtime when it exists, so a MIDI flood proves the process callback's
// MIDI reading real-time safe before the engine itself is wired to MIDI.
//
//   midi_listen [--server NAME] [--client NAME]
//
// Prints "ready" once active, then every 50 ms one line "stats {MidiStats json}" to
// stdout, until SIGTERM or SIGINT.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "engine/audio_ring.hpp"
#include "engine/config.hpp"
#include "engine/jack_client.hpp"
#include "engine/playback.hpp"
#include "midi/midi_input.hpp"

namespace {

std::atomic<bool> stop_requested{false};

class CountingSink : public continuo::MidiSink {
 public:
  std::string note(int, int) override { return ""; }
  std::string clear_notes() override { return ""; }
  std::string set(continuo::MidiParam, double) override { return ""; }
};

}  // namespace

int main(int argc, char** argv) {
  continuo::JackConfig jack;
  jack.client_name = "midi_listen";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--server") jack.server_name = argv[i + 1];
    else if (flag == "--client") jack.client_name = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: midi_listen [--server NAME] [--client NAME]\n");
      return 2;
    }
  }
  std::signal(SIGTERM, [](int) { stop_requested.store(true); });
  std::signal(SIGINT, [](int) { stop_requested.store(true); });

  CountingSink sink;
  continuo::MidiInput input(sink, continuo::MidiConfig{});
  continuo::AudioRing ring(4096);
  continuo::Playback playback(ring, continuo::PlaybackConfig{});
  continuo::JackEvents events;
  try {
    continuo::JackClient client(jack, events);
    input.start();
    client.activate(playback, 0, &input.midi_ring());
    std::printf("ready\n");
    std::fflush(stdout);
    while (!stop_requested.load() && !events.server_gone.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::printf("stats %s\n", input.stats().to_json().c_str());
      std::fflush(stdout);
    }
  } catch (const continuo::JackError& error) {
    std::fprintf(stderr, "midi_listen: %s\n", error.what());
    return 1;
  }
  input.stop();
  std::printf("stats %s\n", input.stats().to_json().c_str());
  return 0;
}
