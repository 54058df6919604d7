#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/journal.hpp"

namespace continuo {
namespace {

JournalHeader header() {
  JournalHeader h;
  h.model_spec = "/models/with space/mrt2_tiny";
  h.model_identity = "mrt2_tiny fnv1a64:0123456789abcdef";
  h.backend = "cpu";
  h.prefill_frames = 500;
  h.model_rate = 8000;
  h.frame_samples = 64;
  h.output_rate = 48000;
  h.resampler = ResamplerQuality::best;
  h.audio_file = "take-20261121-060000Z.wav";
  h.started = "2026-11-21T06:00:00Z";
  return h;
}

std::string journal_text(const std::vector<JournalEvent>& events) {
  std::string text = journal_header_text(header());
  for (const JournalEvent& event : events) text += journal_line(event);
  return text;
}

TEST(Journal, ControlChangesRoundTripBitExactly) {
  ControlSnapshot before;
  ControlSnapshot after;
  after.temperature = 0.1f + 0.2f;  // not a short decimal: must still read back exactly
  after.top_k = 7;
  after.cfg_style = -1.0f;
  after.drums = 0;
  after.seed = 18446744073709551615ull;
  after.style_tokens = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1023};
  after.notes[60] = NoteState::onset;
  after.notes[0] = NoteState::off;
  after.notes[127] = NoteState::model_decides;
  const std::string text = control_changes(before, after);
  ControlSnapshot read = before;
  apply_control_changes(text, read);
  EXPECT_EQ(std::memcmp(&read.temperature, &after.temperature, sizeof(float)), 0);
  EXPECT_EQ(read.top_k, 7);
  EXPECT_EQ(read.cfg_style, -1.0f);
  EXPECT_EQ(read.drums, 0);
  EXPECT_EQ(read.seed, after.seed);
  EXPECT_EQ(read.style_tokens, after.style_tokens);
  EXPECT_EQ(read.notes, after.notes);
  EXPECT_EQ(control_changes(read, after), "");
}

TEST(Journal, OnlyWhatChangedIsWritten) {
  ControlSnapshot before;
  ControlSnapshot after;
  EXPECT_EQ(control_changes(before, after), "");
  after.version = 99;  // the engine's bookkeeping, not something the model reads
  EXPECT_EQ(control_changes(before, after), "");
  after.temperature = 1.5f;
  after.notes[64] = NoteState::sustain;
  EXPECT_EQ(control_changes(before, after), "temperature=1.5 notes=64:1");
}

TEST(Journal, WriteReadRoundTrip) {
  ControlSnapshot hot;
  hot.temperature = 2.0f;
  const std::vector<JournalEvent> events{
      {0, JournalKind::reset, 7, {}},
      {0, JournalKind::set, 0, control_changes(ControlSnapshot{}, hot)},
      {12, JournalKind::rate, 44100, {}},
      {12, JournalKind::take, 0, {}},
      {40, JournalKind::drop, 1920, {}},
      {41, JournalKind::lost, 3, {}},
      {42, JournalKind::fail, 0, {}},
      {42, JournalKind::silence, 1920, {}},
      {42, JournalKind::reset, 7, {}},
      {45, JournalKind::context, 7, "0,15,3,1023"},
      {50, JournalKind::sync, 72000, {}},
      {60, JournalKind::end, 91000, {}},
  };
  const Journal journal = parse_journal(journal_text(events), "take.journal");
  EXPECT_EQ(journal.events, events);
  EXPECT_EQ(journal.cut_tail, "");
  EXPECT_EQ(journal.header.model_spec, "/models/with space/mrt2_tiny");
  EXPECT_EQ(journal.header.model_identity, header().model_identity);
  EXPECT_EQ(journal.header.backend, "cpu");
  EXPECT_EQ(journal.header.prefill_frames, 500);
  EXPECT_EQ(journal.header.model_rate, 8000);
  EXPECT_EQ(journal.header.frame_samples, 64);
  EXPECT_EQ(journal.header.output_rate, 48000);
  EXPECT_EQ(journal.header.resampler, ResamplerQuality::best);
  EXPECT_EQ(journal.header.audio_file, "take-20261121-060000Z.wav");
  EXPECT_EQ(journal.header.started, "2026-11-21T06:00:00Z");
}

TEST(Journal, ALastLineCutByAKillIsIgnoredAndReported) {
  const std::string whole = journal_text({{0, JournalKind::reset, 0, {}}, {5, JournalKind::set, 0, "temperature=1.5"}});
  // Every cut inside the last line: the lines before it are read, the rest is reported.
  const std::size_t last = whole.rfind('\n', whole.size() - 2) + 1;
  for (std::size_t cut = last + 1; cut < whole.size(); ++cut) {
    const Journal journal = parse_journal(std::string_view(whole).substr(0, cut), "take.journal");
    ASSERT_EQ(journal.events.size(), 1u) << cut;
    EXPECT_EQ(journal.events[0].kind, JournalKind::reset);
    const std::string line = std::to_string(journal.events.size() + 12);  // header lines + magic + reset line
    EXPECT_EQ(journal.cut_tail, "line " + line + ": '" + whole.substr(last, cut - last) +
                                    "' has no end of line (the writer was stopped mid-line)");
  }
}

std::string error_of(const std::string& text) {
  try {
    parse_journal(text, "take.journal");
  } catch (const JournalError& error) {
    return error.what();
  }
  return "";
}

TEST(Journal, BadInputNamesTheFileAndLine) {
  const std::string head = journal_header_text(header());
  EXPECT_EQ(error_of("hello\n"), "take.journal:1: not a continuo journal (the first line must be 'continuo journal 1')");
  EXPECT_EQ(error_of(""), "take.journal:1: not a continuo journal (empty or cut before its first line ended)");
  EXPECT_EQ(error_of(head + "0 reset x\n"), "take.journal:12: reset: expected a whole number >= 0, got 'x'");
  EXPECT_EQ(error_of(head + "0 jump 3\n"), "take.journal:12: unknown event 'jump'");
  EXPECT_EQ(error_of(head + "0 set temperature=0\n"),
            "take.journal:12: temperature: expected a number in the control's range, got '0'");
  EXPECT_EQ(error_of(head + "0 set temperature=nan\n"),
            "take.journal:12: temperature: expected a number in the control's range, got 'nan'");
  EXPECT_EQ(error_of(head + "0 set notes=128:1\n"),
            "take.journal:12: notes: expected pitch:state items (pitch 0..127, state -1..3), got '128:1'");
  EXPECT_EQ(error_of(head + "0 set style_tokens=1,2\n"), "take.journal:12: style_tokens: expected 12 integers, got 2");
  EXPECT_EQ(error_of(head + "0 set volume=3\n"), "take.journal:12: unknown control 'volume'");
  EXPECT_EQ(error_of(head + "0 fail 3\n"), "take.journal:12: fail takes no value");
  EXPECT_EQ(error_of(head + "0 silence 0\n"), "take.journal:12: silence: expected 1..1048576 samples, got 0");
  EXPECT_EQ(error_of(head + "0 silence 99999999999\n"),
            "take.journal:12: silence: expected 1..1048576 samples, got 99999999999");
  EXPECT_EQ(error_of(head + "0 context 5\n"), "take.journal:12: context code: expected a whole number >= 0, got ''");
  EXPECT_EQ(error_of(head + "0 context 5 1,-2\n"),
            "take.journal:12: context code: expected a whole number >= 0, got '-2'");
  EXPECT_EQ(error_of(head + "0 context x 1\n"), "take.journal:12: context seed: expected a whole number >= 0, got 'x'");
  EXPECT_EQ(error_of(head + "0 reset 1\nmodel.spec x\n"),
            "take.journal:13: expected '<frame> <event> ...', got 'model.spec x'");
  EXPECT_EQ(error_of("continuo journal 1\nmodel.spec x\n"), "take.journal: header lacks model.identity");
  EXPECT_EQ(error_of("continuo journal 1\ncolour blue\n"), "take.journal:2: unknown header key 'colour'");
}

}  // namespace
}  // namespace continuo
