#include "midi/midi_parser.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace continuo {
namespace {

// Every message the parser returns for bytes, as "90 3c 40" text, one per message.
std::vector<std::string> parse(MidiParser& parser, const std::vector<std::uint8_t>& bytes) {
  std::vector<std::string> out;
  for (const std::uint8_t byte : bytes) {
    const auto message = parser.feed(byte);
    if (!message) continue;
    char text[16];
    const std::uint8_t all[3] = {message->status, message->data1, message->data2};
    std::string line;
    for (int i = 0; i < message->size; ++i) {
      std::snprintf(text, sizeof text, "%s%02x", i ? " " : "", all[i]);
      line += text;
    }
    out.push_back(line);
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(MidiParser, CompleteChannelMessages) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64, 0x80, 0x3C, 0x00, 0xB1, 0x07, 0x7F, 0xC2, 0x05, 0xE0, 0x00, 0x40}),
            (Lines{"90 3c 64", "80 3c 00", "b1 07 7f", "c2 05", "e0 00 40"}));
  EXPECT_EQ(p.stats().messages, 5u);
  EXPECT_EQ(p.stats().dropped_bytes, 0u);
}

TEST(MidiParser, RunningStatusRepeatsTheLastChannelStatus) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64, 0x3E, 0x64, 0x3C, 0x00, 0xC0, 0x01, 0x02}),
            (Lines{"90 3c 64", "90 3e 64", "90 3c 00", "c0 01", "c0 02"}));
}

TEST(MidiParser, RealTimeBytesInterleaveWithoutBreakingAMessage) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0xF8, 0x3C, 0xFE, 0x64, 0xF8, 0x40, 0xFA, 0x10}),
            (Lines{"f8", "fe", "90 3c 64", "f8", "fa", "90 40 10"}));
  EXPECT_EQ(p.stats().truncated, 0u);
  EXPECT_EQ(p.stats().messages, 6u);
}

TEST(MidiParser, UndefinedRealTimeBytesAreDroppedWithoutHarm) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0xF9, 0xFD, 0x64}), (Lines{"90 3c 64"}));
  EXPECT_EQ(p.stats().dropped_bytes, 2u);
}

TEST(MidiParser, SysExIsSkippedAndCounted) {
  MidiParser p;
  std::vector<std::uint8_t> bytes{0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF8, 0xF7, 0x90, 0x3C, 0x64};
  EXPECT_EQ(parse(p, bytes), (Lines{"f8", "90 3c 64"}));
  EXPECT_EQ(p.stats().sysex, 1u);
  EXPECT_EQ(p.stats().dropped_bytes, 0u);
}

TEST(MidiParser, SysExFloodLeavesTheParserWorking) {
  MidiParser p;
  std::vector<std::uint8_t> flood;
  for (int n = 0; n < 1000; ++n) {
    flood.push_back(0xF0);
    for (int i = 0; i < 300; ++i) flood.push_back(static_cast<std::uint8_t>(i & 0x7F));
    flood.push_back(0xF7);
  }
  EXPECT_TRUE(parse(p, flood).empty());
  EXPECT_EQ(p.stats().sysex, 1000u);
  EXPECT_EQ(parse(p, {0xB0, 0x46, 0x10}), (Lines{"b0 46 10"}));
}

TEST(MidiParser, SysExEndedByAStatusByteStillCounts) {
  MidiParser p;  // a lost 0xF7: the next status byte ends the SysEx and is itself parsed
  EXPECT_EQ(parse(p, {0xF0, 0x01, 0x02, 0x90, 0x3C, 0x64}), (Lines{"90 3c 64"}));
  EXPECT_EQ(p.stats().sysex, 1u);
}

TEST(MidiParser, SysExCancelsRunningStatus) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64, 0xF0, 0x01, 0xF7, 0x3E, 0x64}), (Lines{"90 3c 64"}));
  EXPECT_EQ(p.stats().dropped_bytes, 2u);
}

TEST(MidiParser, DataBytesWithoutStatusAreDropped) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x3C, 0x64, 0x00, 0x90, 0x3C, 0x64}), (Lines{"90 3c 64"}));
  EXPECT_EQ(p.stats().dropped_bytes, 3u);
}

TEST(MidiParser, StrayEndOfExclusiveAndUndefinedCommonAreDropped) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64, 0xF7, 0x3E, 0x64, 0xF4, 0xF5, 0x01}), (Lines{"90 3c 64"}));
  EXPECT_EQ(p.stats().dropped_bytes, 6u);  // F7, 3E, 64 (no running status after F7), F4, F5, 01
}

TEST(MidiParser, TruncatedMessageIsCutByTheNextStatus) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0xB0, 0x07, 0x40}), (Lines{"b0 07 40"}));
  EXPECT_EQ(p.stats().truncated, 1u);
  EXPECT_EQ(parse(p, {0x90, 0x80, 0x3C, 0x00}), (Lines{"80 3c 00"}));  // a status with no data at all
  EXPECT_EQ(p.stats().truncated, 2u);
}

TEST(MidiParser, EndOfPacketDropsAHalfMessageButKeepsRunningStatus) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64, 0x3E}), (Lines{"90 3c 64"}));
  p.end_packet();
  EXPECT_EQ(p.stats().truncated, 1u);
  EXPECT_EQ(parse(p, {0x40, 0x10}), (Lines{"90 40 10"}));
  p.end_packet();
  EXPECT_EQ(p.stats().truncated, 1u);  // nothing was pending
}

TEST(MidiParser, SystemCommonMessagesAndTheirLengths) {
  MidiParser p;
  EXPECT_EQ(parse(p, {0xF1, 0x21, 0xF2, 0x01, 0x02, 0xF3, 0x05, 0xF6}), (Lines{"f1 21", "f2 01 02", "f3 05", "f6"}));
  // They cancel running status: the data bytes after them have no status.
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64, 0xF6, 0x3C, 0x00}), (Lines{"90 3c 64", "f6"}));
  EXPECT_EQ(p.stats().dropped_bytes, 2u);
}

TEST(MidiParser, GarbageNeverCrashesAndLaterMessagesParse) {
  MidiParser p;
  std::uint32_t x = 12345;
  std::vector<std::uint8_t> garbage;
  for (int i = 0; i < 100000; ++i) {
    x = x * 1664525u + 1013904223u;
    garbage.push_back(static_cast<std::uint8_t>(x >> 24));
  }
  parse(p, garbage);
  p.end_packet();
  EXPECT_EQ(parse(p, {0x90, 0x3C, 0x64}), (Lines{"90 3c 64"}));
}

}  // namespace
}  // namespace continuo
