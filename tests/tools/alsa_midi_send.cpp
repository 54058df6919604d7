// alsa_midi_send: an ALSA sequencer MIDI controller for tests/integration/test_midi_alsa.py.
// Opens an RtMidi output on the ALSA API, connects it to the first port whose name
// contains PORT, and sends each EVENT (hex bytes, "90 3c 64") as one message.
//
//   alsa_midi_send --port PORT EVENT...
//
// Exits 0 once everything was sent, 1 with a message when the sequencer or the port is
// missing.

#include <RtMidi.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string port;
  std::vector<std::vector<unsigned char>> events;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = argv[++i];
      continue;
    }
    std::vector<unsigned char> bytes;
    std::string digits;
    for (char c : arg) {
      if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    }
    for (std::size_t k = 0; k + 1 < digits.size(); k += 2) {
      bytes.push_back(static_cast<unsigned char>(std::strtoul(digits.substr(k, 2).c_str(), nullptr, 16)));
    }
    events.push_back(bytes);
  }
  if (port.empty() || events.empty()) {
    std::fprintf(stderr, "usage: alsa_midi_send --port PORT EVENT...\n");
    return 2;
  }
  try {
    RtMidiOut out(RtMidi::LINUX_ALSA, "alsa_midi_send");
    for (unsigned i = 0; i < out.getPortCount(); ++i) {
      if (out.getPortName(i).find(port) == std::string::npos) continue;
      out.openPort(i, "out");
      for (auto& event : events) {
        out.sendMessage(&event);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::printf("sent=%zu to %s\n", events.size(), out.getPortName(i).c_str());
      return 0;
    }
    std::fprintf(stderr, "alsa_midi_send: no ALSA sequencer port matches \"%s\"\n", port.c_str());
  } catch (const RtMidiError& error) {
    std::fprintf(stderr, "alsa_midi_send: %s\n", error.getMessage().c_str());
  }
  return 1;
}
