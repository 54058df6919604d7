#include "midi/midi_file.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>

namespace continuo {
namespace {

constexpr std::uint32_t kDefaultTempo = 500000;              // microseconds per quarter: 120 bpm
constexpr std::size_t kMaxFileBytes = 64u * 1024u * 1024u;  // far beyond any performance; stops a wrong path early

std::string hex(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", value);
  return text;
}

// Reads big-endian fields and variable-length quantities from [pos, end) of the file;
// every read checks the bound first, so a truncated file is an error naming the offset.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> data, std::size_t pos, std::size_t end, const std::string& name)
      : data_(data), pos_(pos), end_(end), name_(name) {}

  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    throw MidiFileError(name_ + ": byte " + std::to_string(offset) + ": " + what);
  }
  void need(std::size_t bytes, const char* what) const {
    if (end_ - pos_ < bytes) {
      fail(pos_, std::string("truncated ") + what + " (needs " + std::to_string(bytes) + " bytes, " +
                     std::to_string(end_ - pos_) + " left)");
    }
  }
  std::uint8_t peek(const char* what) const {
    need(1, what);
    return data_[pos_];
  }
  std::uint8_t u8(const char* what) {
    need(1, what);
    return data_[pos_++];
  }
  std::uint32_t big_endian(std::size_t bytes, const char* what) {
    need(bytes, what);
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | data_[pos_++];
    return value;
  }
  std::uint32_t varlen(const char* what) {
    const std::size_t start = pos_;
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const std::uint8_t byte = u8(what);
      value = (value << 7) | (byte & 0x7F);
      if ((byte & 0x80) == 0) return value;
    }
    fail(start, std::string(what) + ": variable-length quantity longer than 4 bytes");
  }
  void skip(std::size_t bytes, const char* what) {
    need(bytes, what);
    pos_ += bytes;
  }
  std::string tag() {
    need(4, "chunk header");
    const std::string text(data_.begin() + static_cast<std::ptrdiff_t>(pos_),
                           data_.begin() + static_cast<std::ptrdiff_t>(pos_ + 4));
    pos_ += 4;
    return text;
  }
  std::size_t pos() const { return pos_; }
  bool done() const { return pos_ >= end_; }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_;
  std::size_t end_;
  const std::string& name_;
};

struct TempoChange {
  std::uint64_t tick;
  std::uint32_t micros_per_quarter;
};

struct Header {
  int format = 0;
  int tracks = 0;
  std::uint16_t division = 0;
};

// What every track chunk yields before ticks become seconds.
struct Tracks {
  std::vector<MidiFileEvent> events;
  std::vector<TempoChange> tempo;
};

int channel_data_bytes(std::uint8_t status) { return (status & 0xF0) == 0xC0 || (status & 0xF0) == 0xD0 ? 1 : 2; }

void read_channel_message(Reader& in, std::uint8_t status, std::uint64_t tick, Tracks& out) {
  MidiFileEvent event{0.0, tick, {status}};
  for (int i = 0; i < channel_data_bytes(status); ++i) {
    const std::size_t at = in.pos();
    const std::uint8_t byte = in.u8("channel message");
    if (byte >= 0x80) in.fail(at, "status byte " + hex(byte) + " inside a " + hex(status) + " message");
    event.bytes.push_back(byte);
  }
  out.events.push_back(std::move(event));
}

// A meta event; false at End of Track.
bool read_meta(Reader& in, std::uint64_t tick, Tracks& out) {
  const std::uint8_t type = in.u8("meta event");
  const std::size_t length_at = in.pos();
  const std::uint32_t length = in.varlen("meta event length");
  if (type == 0x2F) return false;
  if (type != 0x51) {
    in.skip(length, "meta event");
    return true;
  }
  if (length != 3) in.fail(length_at, "tempo event of " + std::to_string(length) + " bytes (expected 3)");
  const std::uint32_t tempo = in.big_endian(3, "tempo event");
  if (tempo == 0) in.fail(length_at + 1, "tempo of 0 microseconds per quarter note");
  out.tempo.push_back({tick, tempo});
  return true;
}

// One MTrk chunk's events. Running status carries across channel messages only: meta
// events and SysEx cancel it, as the SMF spec says.
void read_track(Reader& in, Tracks& out) {
  std::uint64_t tick = 0;
  std::uint8_t running = 0;
  while (!in.done()) {  // a track cut at an event boundary without End of Track is accepted
    tick += in.varlen("delta time");
    const std::size_t at = in.pos();
    std::uint8_t status = in.peek("event");
    if (status < 0x80) {
      if (running == 0) in.fail(at, "data byte " + hex(status) + " without a running status");
      status = running;
    } else {
      in.u8("event");
    }
    if (status < 0xF0) {
      running = status;
      read_channel_message(in, status, tick, out);
      continue;
    }
    running = 0;
    if (status == 0xFF) {
      if (!read_meta(in, tick, out)) return;
    } else if (status == 0xF0 || status == 0xF7) {
      in.skip(in.varlen("SysEx length"), "SysEx event");
    } else {
      in.fail(at, "status byte " + hex(status) + " is not allowed in a MIDI file");
    }
  }
}

Header read_header(Reader& in) {
  if (in.tag() != "MThd") in.fail(0, "not a Standard MIDI File (no MThd header)");
  const std::uint32_t length = in.big_endian(4, "header");
  if (length < 6) in.fail(4, "header chunk of " + std::to_string(length) + " bytes (expected 6)");
  Header header;
  header.format = static_cast<int>(in.big_endian(2, "header"));
  header.tracks = static_cast<int>(in.big_endian(2, "header"));
  header.division = static_cast<std::uint16_t>(in.big_endian(2, "header"));
  in.skip(length - 6, "header");
  if (header.format > 1) in.fail(8, "format " + std::to_string(header.format) + " is not supported (0 or 1 only)");
  if (header.tracks < 1 || (header.format == 0 && header.tracks != 1)) {
    in.fail(10, "format " + std::to_string(header.format) + " with " + std::to_string(header.tracks) + " tracks");
  }
  if (header.division == 0 || ((header.division & 0x8000) != 0 && (header.division & 0xFF) == 0)) {
    in.fail(12, "division of 0 ticks");
  }
  return header;
}

Tracks read_tracks(std::span<const std::uint8_t> data, Reader& in, const Header& header, const std::string& name) {
  Tracks tracks;
  int found = 0;
  while (found < header.tracks) {
    if (in.done()) {
      in.fail(in.pos(), "truncated: the header declares " + std::to_string(header.tracks) + " tracks, found " +
                            std::to_string(found));
    }
    const std::string tag = in.tag();
    const std::uint32_t length = in.big_endian(4, "chunk header");
    const std::size_t start = in.pos();
    in.skip(length, tag == "MTrk" ? "track chunk" : "chunk");
    if (tag != "MTrk") continue;  // unknown chunks are skipped, as the spec asks
    Reader track(data, start, start + length, name);
    read_track(track, tracks);
    ++found;
  }
  return tracks;
}

// Sorts by tick, keeping the original order among equal ticks. Not std::stable_sort:
// libstdc++ 12's get_temporary_buffer is deprecated under clang 19 and -Werror.
template <typename T>
void sort_by_tick(std::vector<T>& items) {
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return items[a].tick != items[b].tick ? items[a].tick < items[b].tick : a < b;
  });
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (std::size_t i : order) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

// Ticks to seconds. Metrical division follows the tempo map; SMPTE division is absolute.
class Clock {
 public:
  Clock(std::uint16_t division, std::vector<TempoChange> tempo) : division_(division), tempo_(std::move(tempo)) {
    sort_by_tick(tempo_);  // one tick's last change in file order wins
  }

  // Events must come in tick order: the walk along the tempo map only moves forward.
  double seconds(std::uint64_t tick) {
    if (division_ & 0x8000) return static_cast<double>(tick) / smpte_ticks_per_second();
    while (next_ < tempo_.size() && tempo_[next_].tick <= tick) {
      advance_to(tempo_[next_].tick);
      micros_ = tempo_[next_++].micros_per_quarter;
    }
    advance_to(tick);
    return seconds_;
  }

 private:
  double smpte_ticks_per_second() const {
    const int fps = -static_cast<std::int8_t>(division_ >> 8);
    return (fps == 29 ? 29.97 : fps) * (division_ & 0xFF);
  }
  void advance_to(std::uint64_t tick) {
    seconds_ += static_cast<double>(tick - tick_) * micros_ / 1e6 / division_;
    tick_ = tick;
  }

  std::uint16_t division_;
  std::vector<TempoChange> tempo_;
  std::size_t next_ = 0;
  std::uint64_t tick_ = 0;
  double seconds_ = 0.0;
  std::uint32_t micros_ = kDefaultTempo;
};

}  // namespace

MidiFile parse_midi_file(std::span<const std::uint8_t> data, const std::string& name) {
  Reader in(data, 0, data.size(), name);
  const Header header = read_header(in);
  Tracks tracks = read_tracks(data, in, header, name);
  // Stable: events at one tick keep their track order and, within a track, file order.
  sort_by_tick(tracks.events);
  Clock clock(header.division, std::move(tracks.tempo));
  for (MidiFileEvent& event : tracks.events) event.seconds = clock.seconds(event.tick);
  return {header.format, header.tracks, std::move(tracks.events)};
}

MidiFile read_midi_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw MidiFileError(path + ": cannot open");
  std::vector<std::uint8_t> data;
  char chunk[65536];
  while (file.read(chunk, sizeof chunk) || file.gcount() > 0) {
    data.insert(data.end(), chunk, chunk + file.gcount());
    if (data.size() > kMaxFileBytes) throw MidiFileError(path + ": larger than 64 MiB, not a performance MIDI file");
  }
  if (file.bad()) throw MidiFileError(path + ": read error");
  return parse_midi_file(data, path);
}

}  // namespace continuo
