#include "midi/midi_parser.hpp"

namespace continuo {
namespace {

// Data bytes a status byte's message carries, or -1 for bytes that start no message.
int data_bytes(std::uint8_t status) {
  switch (status & 0xF0) {
    case 0xC0:  // program change
    case 0xD0:  // channel pressure
      return 1;
    case 0xF0:
      break;
    default:
      return 2;
  }
  switch (status) {
    case 0xF1:  // MTC quarter frame
    case 0xF3:  // song select
      return 1;
    case 0xF2:  // song position
      return 2;
    case 0xF6:  // tune request
      return 0;
    default:    // 0xF4, 0xF5 undefined; 0xF7 without a SysEx to end
      return -1;
  }
}

}  // namespace

std::optional<MidiMessage> MidiParser::feed(std::uint8_t byte) {
  if (byte >= 0xF8) {
    // Real-time: legal anywhere, including inside SysEx and between a message's bytes.
    if (byte == 0xF9 || byte == 0xFD) {
      ++stats_.dropped_bytes;
      return std::nullopt;
    }
    ++stats_.messages;
    return MidiMessage{byte, 0, 0, 1};
  }
  if (in_sysex_) {
    if (byte < 0x80) return std::nullopt;
    in_sysex_ = false;
    ++stats_.sysex;
    if (byte == 0xF7) return std::nullopt;
    // Any other status byte ends the SysEx too (a lost 0xF7) and starts its own message.
  }
  return byte >= 0x80 ? status_byte(byte) : data_byte(byte);
}

std::optional<MidiMessage> MidiParser::status_byte(std::uint8_t byte) {
  drop_partial();
  running_ = 0;
  if (byte == 0xF0) {
    in_sysex_ = true;
    return std::nullopt;
  }
  const int needed = data_bytes(byte);
  if (needed < 0) {
    ++stats_.dropped_bytes;
    return std::nullopt;
  }
  running_ = byte;
  needed_ = needed;
  have_ = 0;
  if (needed_ == 0) return complete();
  partial_ = true;
  return std::nullopt;
}

std::optional<MidiMessage> MidiParser::data_byte(std::uint8_t byte) {
  if (running_ == 0) {
    ++stats_.dropped_bytes;
    return std::nullopt;
  }
  data_[have_++] = byte;
  partial_ = true;
  return have_ == needed_ ? complete() : std::nullopt;
}

std::optional<MidiMessage> MidiParser::complete() {
  const MidiMessage message{running_, data_[0], data_[1], static_cast<std::uint8_t>(1 + needed_)};
  have_ = 0;
  data_[0] = data_[1] = 0;
  partial_ = false;
  // Only channel messages set running status; system common ones cancel it.
  if (running_ >= 0xF0) running_ = 0;
  ++stats_.messages;
  return message;
}

void MidiParser::drop_partial() {
  if (partial_) ++stats_.truncated;
  partial_ = false;
  have_ = 0;
  data_[0] = data_[1] = 0;
}

void MidiParser::end_packet() {
  drop_partial();
  if (in_sysex_) {
    in_sysex_ = false;
    ++stats_.sysex;
  }
}

}  // namespace continuo
