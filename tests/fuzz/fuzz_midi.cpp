// libFuzzer: a MIDI byte stream through the parser. The first byte splits the input into
// JACK-event-sized packets, so running status and cut-off messages across packet ends are
// explored too. The parser must account for every byte: messages, drops, truncations, SysEx.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "midi/midi_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t packet_bytes = 1 + data[0] % 8;
  continuo::MidiParser parser;
  std::uint64_t returned = 0;
  for (std::size_t i = 1; i < size; ++i) {
    if (const auto message = parser.feed(data[i])) {
      ++returned;
      if (message->size < 1 || message->size > 3) std::abort();
      if (message->size > 1 && (message->data1 > 0x7F || message->data2 > 0x7F)) std::abort();
    }
    if (i % packet_bytes == 0) parser.end_packet();
  }
  if (parser.stats().messages != returned) std::abort();
  return 0;
}
