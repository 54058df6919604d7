#pragma once

#include <cstdint>
#include <optional>

namespace continuo {

// One complete MIDI message. size counts the status byte: 1 for real-time and tune
// request, 2 or 3 for channel messages and the other system common ones.
struct MidiMessage {
  std::uint8_t status = 0;
  std::uint8_t data1 = 0;
  std::uint8_t data2 = 0;
  std::uint8_t size = 0;

  int channel() const { return (status & 0x0F) + 1; }  // 1..16, for channel messages
  std::uint8_t kind() const { return status & 0xF0; }  // 0x80 note off ... 0xE0 pitch bend
  bool is_channel() const { return status >= 0x80 && status < 0xF0; }
};

struct MidiParserStats {
  std::uint64_t messages = 0;       // complete messages returned
  std::uint64_t dropped_bytes = 0;  // data bytes without a status, stray 0xF7, undefined 0xF4/0xF5/0xF9/0xFD
  std::uint64_t truncated = 0;      // messages cut short by a status byte or the end of a packet
  std::uint64_t sysex = 0;          // SysEx messages skipped
};

// Turns a MIDI byte stream into messages the way a MIDI receiver must (MIDI 1.0 spec):
// running status for channel messages; real-time bytes (0xF8..0xFF) may appear anywhere,
// even inside another message, and change nothing; SysEx is skipped to its end (0xF7 or
// the next status byte); a status byte in the middle of a message cuts that message off.
// Nothing malformed throws: it is dropped and counted.
class MidiParser {
 public:
  std::optional<MidiMessage> feed(std::uint8_t byte);

  // The end of a packet (one JACK event): a message still waiting for data is dropped,
  // since JACK events carry whole messages. Running status survives.
  void end_packet();

  const MidiParserStats& stats() const { return stats_; }

 private:
  std::optional<MidiMessage> status_byte(std::uint8_t byte);
  std::optional<MidiMessage> data_byte(std::uint8_t byte);
  std::optional<MidiMessage> complete();
  void drop_partial();  // a message started but not finished is counted as truncated

  std::uint8_t running_ = 0;  // status of the message being assembled (0: none)
  int needed_ = 0;            // data bytes that message has in all
  int have_ = 0;              // data bytes assembled so far
  std::uint8_t data_[2]{};
  bool partial_ = false;      // a status or data byte of an unfinished message was seen
  bool in_sysex_ = false;
  MidiParserStats stats_;
};

}  // namespace continuo
