#include "midi/alsa_input.hpp"

#include <RtMidi.h>

#include <cctype>

namespace continuo {
namespace {

bool is_client_port(const std::string& text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != colon && !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

}  // namespace

std::optional<unsigned> AlsaMidiInput::match_port(const std::vector<std::string>& names, const std::string& wanted) {
  for (unsigned i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (is_client_port(wanted)) {
      const std::string suffix = " " + wanted;
      if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return i;
    } else if (name.find(wanted) != std::string::npos) {
      return i;
    }
  }
  return std::nullopt;
}

void AlsaMidiInput::deliver(double /*seconds*/, std::vector<unsigned char>* message, void* ring) {
  if (message == nullptr || ring == nullptr) return;
  // No JACK frame time here; the ring counts what it drops (oversize, SysEx, full).
  static_cast<MidiRing*>(ring)->push(0, message->data(), message->size());
}

AlsaMidiInput::AlsaMidiInput(MidiRing& ring, const std::string& port, const std::string& name) {
  const std::string what = port.empty() ? "a virtual port \"" + name + "\"" : "midi.alsa_port \"" + port + "\"";
  try {
    in_ = std::make_unique<RtMidiIn>(RtMidi::LINUX_ALSA, name);
  } catch (const RtMidiError& error) {
    throw MidiBackendError("midi.backend = \"alsa\": cannot open the ALSA sequencer for " + what + ": " +
                           error.getMessage() + " (is /dev/snd/seq there? modprobe snd-seq)");
  }
  try {
    in_->ignoreTypes(true, true, true);  // SysEx, timing, active sensing
    in_->setCallback(&AlsaMidiInput::deliver, &ring);
    if (port.empty()) {
      in_->openVirtualPort(name);
      source_ = "virtual input port \"" + name + "\"";
      return;
    }
    std::vector<std::string> names;
    for (unsigned i = 0; i < in_->getPortCount(); ++i) names.push_back(in_->getPortName(i));
    const std::optional<unsigned> found = match_port(names, port);
    if (!found) {
      std::string listed;
      for (const std::string& n : names) listed += (listed.empty() ? "" : "; ") + n;
      throw MidiBackendError("midi.alsa_port \"" + port + "\": no ALSA sequencer port matches (ports: " +
                             (listed.empty() ? std::string("none") : listed) + ")");
    }
    in_->openPort(*found, name);
    source_ = "\"" + names[*found] + "\"";
  } catch (const RtMidiError& error) {
    throw MidiBackendError("midi.backend = \"alsa\": cannot open " + what + ": " + error.getMessage());
  }
}

AlsaMidiInput::~AlsaMidiInput() {
  if (in_) in_->closePort();
}

}  // namespace continuo
