#include "midi/midi_file.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace continuo {
namespace {

using Bytes = std::vector<std::uint8_t>;

void append_be(Bytes& out, std::uint32_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes chunk(const char* tag, const Bytes& body) {
  Bytes out(tag, tag + 4);
  append_be(out, static_cast<std::uint32_t>(body.size()), 4);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes smf(int format, const std::vector<Bytes>& tracks, std::uint16_t division = 480) {
  Bytes header;
  append_be(header, static_cast<std::uint32_t>(format), 2);
  append_be(header, static_cast<std::uint32_t>(tracks.size()), 2);
  append_be(header, division, 2);
  Bytes out = chunk("MThd", header);
  for (const Bytes& track : tracks) {
    const Bytes body = chunk("MTrk", track);
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

const Bytes kEndOfTrack{0x00, 0xFF, 0x2F, 0x00};

Bytes with_end(Bytes track) {
  track.insert(track.end(), kEndOfTrack.begin(), kEndOfTrack.end());
  return track;
}

// A C major triad from beat 2 to beat 4 at 120 bpm (1.0 s to 2.0 s), in running status,
// with a sustain pedal, a track name and a SysEx to skip.
Bytes triad_file() {
  return smf(0, {with_end({0x00, 0xFF, 0x03, 0x04, 'p', 'a', 'd', 's',  // track name
                           0x00, 0xF0, 0x03, 0x7E, 0x09, 0xF7,           // SysEx: skipped
                           0x87, 0x40, 0x90, 60, 100, 0x00, 64, 100, 0x00, 67, 100,  // delta 960
                           0x00, 0xB0, 64, 127,                          // pedal down
                           0x87, 0x40, 0x80, 60, 0, 0x00, 64, 0, 0x00, 67, 0})});
}

std::string hex(const MidiFileEvent& event) {
  std::string text;
  for (std::uint8_t byte : event.bytes) {
    char part[4];
    std::snprintf(part, sizeof part, "%02x", byte);
    text += (text.empty() ? "" : " ") + std::string(part);
  }
  return text;
}

TEST(MidiFile, Format0RunningStatusExpandedAndTimed) {
  const MidiFile file = parse_midi_file(triad_file(), "triad.mid");
  EXPECT_EQ(file.format, 0);
  ASSERT_EQ(file.events.size(), 7u);
  const std::vector<std::string> expected{"90 3c 64", "90 40 64", "90 43 64", "b0 40 7f", "80 3c 00", "80 40 00", "80 43 00"};
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(hex(file.events[i]), expected[i]) << i;
  EXPECT_DOUBLE_EQ(file.events[0].seconds, 1.0);
  EXPECT_DOUBLE_EQ(file.events[3].seconds, 1.0);
  EXPECT_DOUBLE_EQ(file.events[6].seconds, 2.0);
}

TEST(MidiFile, Format1TempoMapAppliesToEveryTrack) {
  // Track 0: 60 bpm from beat 1 (tick 480). Track 1: notes on beats 1 and 2.
  const Bytes tempo = with_end({0x83, 0x60, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40});
  const Bytes notes = with_end({0x83, 0x60, 0x91, 60, 90, 0x83, 0x60, 0x91, 62, 90});
  const MidiFile file = parse_midi_file(smf(1, {tempo, notes}), "tempo.mid");
  EXPECT_EQ(file.tracks, 2);
  ASSERT_EQ(file.events.size(), 2u);
  EXPECT_DOUBLE_EQ(file.events[0].seconds, 0.5);  // beat 1 at 120 bpm
  EXPECT_DOUBLE_EQ(file.events[1].seconds, 1.5);  // then one beat at 60 bpm
}

TEST(MidiFile, TracksMergeInTimeOrderTiesInTrackOrder) {
  const Bytes a = with_end({0x10, 0x90, 60, 1});
  const Bytes b = with_end({0x05, 0x90, 61, 1, 0x0B, 0x90, 62, 1});
  const MidiFile file = parse_midi_file(smf(1, {a, b}), "merge.mid");
  ASSERT_EQ(file.events.size(), 3u);
  EXPECT_EQ(file.events[0].bytes[1], 61);
  EXPECT_EQ(file.events[1].bytes[1], 60);  // tick 16 in track 0 before tick 16 in track 1
  EXPECT_EQ(file.events[2].bytes[1], 62);
}

TEST(MidiFile, SmpteDivisionIsAbsoluteTime) {
  const std::uint16_t division = static_cast<std::uint16_t>((0x100 - 25) << 8 | 40);  // 25 fps, 40 ticks a frame
  const MidiFile file = parse_midi_file(smf(0, {with_end({0x87, 0x68, 0x90, 60, 1})}, division), "smpte.mid");
  ASSERT_EQ(file.events.size(), 1u);
  EXPECT_DOUBLE_EQ(file.events[0].seconds, 1.0);  // 1000 ticks / (25 * 40)
}

TEST(MidiFile, UnknownChunksAreSkipped) {
  Bytes data = smf(0, {});
  data[11] = 1;  // one track, after an unknown chunk
  const Bytes junk = chunk("XYZW", {1, 2, 3});
  const Bytes track = chunk("MTrk", with_end({0x00, 0x90, 60, 1}));
  data.insert(data.end(), junk.begin(), junk.end());
  data.insert(data.end(), track.begin(), track.end());
  EXPECT_EQ(parse_midi_file(data, "chunks.mid").events.size(), 1u);
}

void expect_error(const Bytes& data, const std::string& fragment) {
  try {
    parse_midi_file(data, "bad.mid");
    FAIL() << "no error; expected one containing '" << fragment << "'";
  } catch (const MidiFileError& error) {
    const std::string what = error.what();
    EXPECT_EQ(what.rfind("bad.mid: ", 0), 0u) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(MidiFile, ErrorsNameTheFileAndOffset) {
  expect_error({'R', 'I', 'F', 'F', 0, 0, 0, 6}, "byte 0: not a Standard MIDI File");
  expect_error(smf(2, {with_end({})}), "byte 8: format 2 is not supported");
  expect_error(smf(0, {with_end({}), with_end({})}), "format 0 with 2 tracks");
  expect_error(smf(0, {with_end({})}, 0), "division of 0");
  expect_error(smf(0, {with_end({0x00, 60, 100})}), "byte 23: data byte 0x3C without a running status");
  // A meta event cancels running status.
  expect_error(smf(0, {with_end({0x00, 0x90, 60, 1, 0x00, 0xFF, 0x01, 0x00, 0x00, 61, 1})}), "without a running status");
  expect_error(smf(0, {with_end({0x00, 0x90, 60, 0x90})}), "status byte 0x90 inside a 0x90 message");
  expect_error(smf(0, {with_end({0x00, 0xF2, 0, 0})}), "status byte 0xF2 is not allowed");
  expect_error(smf(0, {with_end({0x00, 0xFF, 0x51, 0x03, 0, 0, 0})}), "tempo of 0");
  expect_error(smf(0, {with_end({0xFF, 0xFF, 0xFF, 0xFF, 0x7F})}), "longer than 4 bytes");
  Bytes missing_track = smf(1, {with_end({})});
  missing_track[11] = 2;
  expect_error(missing_track, "declares 2 tracks, found 1");
}

TEST(MidiFile, EveryTruncationIsAnErrorNeverACrash) {
  const Bytes whole = triad_file();
  ASSERT_NO_THROW(parse_midi_file(whole, "triad.mid"));
  for (std::size_t size = 0; size < whole.size(); ++size) {
    const Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_THROW(parse_midi_file(prefix, "cut.mid"), MidiFileError) << "cut at " << size;
  }
}

TEST(MidiFile, GarbageNeverCrashes) {
  // Random bytes alone, and random track bodies behind a valid header: each either parses
  // or throws MidiFileError, and never reads out of bounds (run under ASan to be sure).
  std::uint32_t state = 12345;
  const auto next = [&] { return static_cast<std::uint8_t>((state = state * 1664525u + 1013904223u) >> 24); };
  for (int round = 0; round < 2000; ++round) {
    Bytes body(static_cast<std::size_t>(next() % 64));
    for (std::uint8_t& byte : body) byte = next();
    const Bytes as_track = smf(0, {body});
    for (const Bytes* data : {static_cast<const Bytes*>(&body), &as_track}) {
      try {
        parse_midi_file(*data, "garbage.mid");
      } catch (const MidiFileError&) {
      }
    }
  }
}

TEST(MidiFile, MissingFileIsAnError) {
  try {
    read_midi_file("/nonexistent/song.mid");
    FAIL();
  } catch (const MidiFileError& error) {
    EXPECT_EQ(std::string(error.what()), "/nonexistent/song.mid: cannot open");
  }
}

}  // namespace
}  // namespace continuo
