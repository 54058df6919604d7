// libFuzzer: one UDP datagram through what the OSC server does with it: parse (bundles
// flattened), then dispatch every message against real Controls, as a performer's packet is.
// Anything but a clean parse error or a /done /fail reply is a finding.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/audio_ring.hpp"
#include "engine/control_state.hpp"
#include "engine/controls.hpp"
#include "engine/playback.hpp"
#include "osc/address_map.hpp"
#include "osc/packet.hpp"

namespace {

using namespace continuo;

struct Engine {
  ControlState state{ControlSnapshot{}};
  AudioRing ring{1024};
  Playback playback{ring, PlaybackConfig{}};
  Controls controls{state, playback, [] { return StatusSnapshot{}; }, 0.0f, [] {}};
  osc::CommandContext context{controls, [](bool) { return ControlResult{}; }};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Engine engine;  // one engine for the run, as a live one takes packet after packet
  std::vector<osc::Message> messages;
  if (!osc::parse_packet(std::span(data, size), messages).empty()) return 0;
  for (const osc::Message& message : messages) {
    engine.context.message = &message;
    (void)osc::dispatch(message, engine.context);
  }
  return 0;
}
