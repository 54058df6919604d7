#include "engine/controls.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace continuo {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

class ControlsTest : public ::testing::Test {
 protected:
  static PlaybackConfig playback_config() {
    PlaybackConfig config;
    config.fade_frames = 0;
    config.gain_ramp_frames = 0;
    config.resume_frames = 1;
    return config;
  }

  StatusSnapshot fake_status() const {
    StatusSnapshot s;
    s.frames_generated = 17;
    return s;
  }

  ControlState state_{ControlSnapshot{}};
  AudioRing ring_{4096};
  Playback playback_{ring_, playback_config()};
  Controls controls_{state_, playback_, [this] { return fake_status(); }, -3.0f};
};

// Each float setter: the edges apply, just outside and NaN/inf are refused with the rule.
struct FloatCase {
  const char* name;
  ControlResult (Controls::*set)(float);
  float ControlSnapshot::*field;
  float lo;  // accepted unless lo_open
  float hi;
  bool lo_open;
  const char* rule;
};

TEST_F(ControlsTest, FloatSettersValidateRangeNanAndInf) {
  const std::vector<FloatCase> cases{
      {"temperature", &Controls::set_temperature, &ControlSnapshot::temperature, 0, 10, true,
       "temperature must be greater than 0 and at most 10"},
      {"cfg_style", &Controls::set_cfg_style, &ControlSnapshot::cfg_style, -1, 7, false,
       "cfg_style must be between -1 and 7"},
      {"cfg_notes", &Controls::set_cfg_notes, &ControlSnapshot::cfg_notes, -1, 7, false,
       "cfg_notes must be between -1 and 7"},
      {"cfg_drums", &Controls::set_cfg_drums, &ControlSnapshot::cfg_drums, -1, 7, false,
       "cfg_drums must be between -1 and 7"},
  };
  for (const FloatCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ((controls_.*c.set)(c.hi), "");
    EXPECT_EQ(state_.snapshot().*c.field, c.hi);
    const std::string rule = c.rule;
    EXPECT_EQ((controls_.*c.set)(c.lo), c.lo_open ? rule + ", got 0" : "");
    EXPECT_EQ((controls_.*c.set)(c.hi + 0.5f), rule + ", got " + (c.hi == 10 ? "10.5" : "7.5"));
    EXPECT_EQ((controls_.*c.set)(kNan), rule + ", got nan");
    EXPECT_EQ((controls_.*c.set)(kInf), rule + ", got inf");
    EXPECT_EQ((controls_.*c.set)(-kInf), rule + ", got -inf");
    const float kept = state_.snapshot().*c.field;
    EXPECT_FALSE(std::isnan(kept));
    EXPECT_EQ(kept, c.lo_open ? c.hi : c.lo) << "a refused value must leave the state as it was";
  }
}

TEST_F(ControlsTest, IntSettersValidateRange) {
  EXPECT_EQ(controls_.set_top_k(1), "");
  EXPECT_EQ(controls_.set_top_k(1024), "");
  EXPECT_EQ(state_.snapshot().top_k, 1024);
  EXPECT_EQ(controls_.set_top_k(0), "top_k must be between 1 and 1024, got 0");
  EXPECT_EQ(controls_.set_top_k(1025), "top_k must be between 1 and 1024, got 1025");
  for (int drums : {-1, 0, 1}) EXPECT_EQ(controls_.set_drums(drums), "");
  EXPECT_EQ(state_.snapshot().drums, 1);
  EXPECT_EQ(controls_.set_drums(2), "drums must be -1 (model decides), 0 (off) or 1 (on), got 2");
  EXPECT_EQ(controls_.set_drums(-2), "drums must be -1 (model decides), 0 (off) or 1 (on), got -2");
  EXPECT_EQ(controls_.set_seed(0), "");
  EXPECT_EQ(controls_.set_seed(1234567890123), "");
  EXPECT_EQ(state_.snapshot().seed, 1234567890123u);
  EXPECT_EQ(controls_.set_seed(-1), "seed must be at least 0, got -1");
  EXPECT_EQ(state_.snapshot().seed, 1234567890123u);
}

TEST_F(ControlsTest, StyleTokensAreAllOrNothing) {
  std::array<int, kStyleTokens> tokens{};
  for (int i = 0; i < kStyleTokens; ++i) tokens[static_cast<std::size_t>(i)] = i * 90 - 1;  // -1 .. 989
  EXPECT_EQ(controls_.set_style_tokens(tokens), "");
  EXPECT_EQ(state_.snapshot().style_tokens, tokens);
  std::array<int, kStyleTokens> bad = tokens;
  bad[0] = 5;
  bad[7] = 1024;
  EXPECT_EQ(controls_.set_style_tokens(bad),
            "style token 7 must be between -1 and 1023, got 1024 (the model playing takes -1..1023)");
  EXPECT_EQ(state_.snapshot().style_tokens, tokens);
  bad[7] = -2;
  EXPECT_EQ(controls_.set_style_tokens(bad),
            "style token 7 must be between -1 and 1023, got -2 (the model playing takes -1..1023)");
}

// A model with a smaller style codebook (the tiny package: 32 values) would fail every
// step on a larger token: those in play are masked, new ones refused with the reason.
TEST_F(ControlsTest, StyleTokensStayInsideTheModelsCodebook) {
  std::array<int, kStyleTokens> tokens{};
  tokens.fill(-1);
  tokens[2] = 31;
  tokens[5] = 35;
  tokens[9] = 900;
  ASSERT_EQ(controls_.set_style_tokens(tokens), "");
  const std::uint64_t version = state_.snapshot().version;
  EXPECT_EQ(controls_.use_style_codebook(1024), "");
  EXPECT_EQ(state_.snapshot().version, version) << "nothing to mask: no control change";
  EXPECT_EQ(controls_.use_style_codebook(32), "5=35, 9=900");
  std::array<int, kStyleTokens> masked = tokens;
  masked[5] = -1;
  masked[9] = -1;
  EXPECT_EQ(state_.snapshot().style_tokens, masked);
  EXPECT_EQ(controls_.set_style_tokens(tokens),
            "style token 5 must be between -1 and 31, got 35 (the model playing takes -1..31)");
  Preset preset;
  preset.name = "wide";
  preset.style_tokens = tokens;
  EXPECT_EQ(controls_.recall_preset(preset),
            "preset \"wide\": style token 5 must be between -1 and 31, got 35 (the model playing takes -1..31)");
  EXPECT_EQ(state_.snapshot().style_tokens, masked);
}

TEST_F(ControlsTest, VolumeAndMuteReachPlaybackAndAreReported) {
  EXPECT_EQ(controls_.volume_db(), -3.0f);
  EXPECT_EQ(controls_.set_volume_db(-120), "");
  EXPECT_EQ(controls_.set_volume_db(24), "");
  EXPECT_EQ(controls_.volume_db(), 24.0f);
  EXPECT_EQ(controls_.set_volume_db(24.5f), "volume must be between -120 and 24, got 24.5");
  EXPECT_EQ(controls_.set_volume_db(kNan), "volume must be between -120 and 24, got nan");
  EXPECT_EQ(controls_.volume_db(), 24.0f);
  EXPECT_EQ(controls_.set_volume_db(0), "");

  std::vector<float> one(2 * 64, 0.5f);
  ring_.push(one);
  std::vector<float> left(32), right(32);
  playback_.render(left.data(), right.data(), 32);
  EXPECT_EQ(left[31], 0.5f);
  EXPECT_EQ(controls_.set_muted(true), "");
  EXPECT_TRUE(controls_.muted());
  playback_.render(left.data(), right.data(), 32);
  EXPECT_EQ(left[31], 0.0f);
  EXPECT_EQ(controls_.set_muted(false), "");
  EXPECT_FALSE(controls_.muted());
}

TEST_F(ControlsTest, StatusComesFromTheEngine) { EXPECT_EQ(controls_.status().frames_generated, 17u); }

TEST_F(ControlsTest, NoteArgumentsAreChecked) {
  EXPECT_EQ(controls_.note(128, 100), "pitch must be between 0 and 127, got 128");
  EXPECT_EQ(controls_.note(-1, 100), "pitch must be between 0 and 127, got -1");
  EXPECT_EQ(controls_.note(60, 128), "velocity must be between 0 and 127, got 128");
  EXPECT_EQ(controls_.note(60, -1), "velocity must be between 0 and 127, got -1");
  EXPECT_EQ(state_.snapshot().notes, ControlSnapshot{}.notes);
}

TEST_F(ControlsTest, ANoteOnIsAnOnsetForExactlyOneFrame) {
  EXPECT_EQ(controls_.note(60, 100), "");
  const ControlSnapshot first = state_.take_frame_snapshot();
  EXPECT_EQ(first.notes[60], NoteState::onset);
  EXPECT_EQ(first.notes[61], NoteState::off) << "once a note is played, pitches not held are off";
  EXPECT_EQ(held_notes(first), 1);
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::sustain);
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::sustain);
  EXPECT_EQ(controls_.note(60, 90), "");  // played again while held: a new onset
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::onset);
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::sustain);
  EXPECT_EQ(controls_.note(60, 0), "");
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::off);
  EXPECT_EQ(held_notes(state_.snapshot()), 0);
}

TEST_F(ControlsTest, PlainSnapshotsDoNotConsumeOnsets) {
  controls_.note(64, 1);
  EXPECT_EQ(state_.snapshot().notes[64], NoteState::onset);
  EXPECT_EQ(state_.snapshot().notes[64], NoteState::onset);
  EXPECT_EQ(state_.take_frame_snapshot().notes[64], NoteState::onset);
}

TEST_F(ControlsTest, ATapShorterThanAFrameIsStillOneOnset) {
  controls_.note(62, 100);
  controls_.note(62, 0);
  EXPECT_EQ(state_.snapshot().notes[62], NoteState::onset);
  EXPECT_EQ(state_.take_frame_snapshot().notes[62], NoteState::onset);
  EXPECT_EQ(state_.take_frame_snapshot().notes[62], NoteState::off);
}

// onset_mode 0: a note-on asks for the pitch held, with no onset frame (legato); a tap
// shorter than a frame is still held for one frame. Switching back restores the attacks.
TEST_F(ControlsTest, OnsetModeZeroHoldsNotesWithoutAnAttack) {
  EXPECT_EQ(controls_.set_onset_mode(2),
            "onset_mode must be 1 (a note-on is an onset frame, then held) or 0 (held at once, legato), got 2");
  EXPECT_EQ(controls_.set_onset_mode(-1).substr(0, 14), "onset_mode mus");
  EXPECT_EQ(state_.snapshot().onset_mode, 1) << "the default: attacks";
  const std::uint64_t before = state_.snapshot().version;
  EXPECT_EQ(controls_.set_onset_mode(0), "");
  EXPECT_EQ(state_.snapshot().version, before + 1);
  EXPECT_EQ(controls_.note(60, 100), "");
  const ControlSnapshot first = state_.take_frame_snapshot();
  EXPECT_EQ(first.notes[60], NoteState::sustain) << "held at once, no onset";
  EXPECT_EQ(first.notes[61], NoteState::off);
  EXPECT_EQ(held_notes(first), 1);
  EXPECT_EQ(controls_.note(64, 100), "");  // a second pitch joins legato
  EXPECT_EQ(state_.take_frame_snapshot().notes[64], NoteState::sustain);
  EXPECT_EQ(controls_.note(62, 100), "");  // a tap within one frame
  EXPECT_EQ(controls_.note(62, 0), "");
  EXPECT_EQ(state_.take_frame_snapshot().notes[62], NoteState::sustain) << "still reaches one frame";
  EXPECT_EQ(state_.take_frame_snapshot().notes[62], NoteState::off);
  EXPECT_EQ(controls_.note(60, 0), "");
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::off);
  EXPECT_EQ(controls_.set_onset_mode(1), "");
  EXPECT_EQ(controls_.note(60, 100), "");
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::onset) << "attacks again";
  EXPECT_EQ(state_.take_frame_snapshot().notes[60], NoteState::sustain);
}

TEST_F(ControlsTest, ClearNotesGivesThePitchesBackToTheModel) {
  controls_.note(60, 100);
  controls_.note(67, 100);
  state_.take_frame_snapshot();
  EXPECT_EQ(held_notes(state_.snapshot()), 2);
  EXPECT_EQ(controls_.clear_notes(), "");
  const ControlSnapshot cleared = state_.take_frame_snapshot();
  EXPECT_EQ(cleared.notes, all_pitches(NoteState::masked));
  EXPECT_EQ(held_notes(cleared), 0);
}

TEST_F(ControlsTest, ChangesBumpTheVersionAndRefusalsDoNot) {
  const std::uint64_t start = state_.snapshot().version;
  controls_.set_top_k(0);
  controls_.set_temperature(kNan);
  EXPECT_EQ(state_.snapshot().version, start);
  controls_.set_top_k(5);
  EXPECT_EQ(state_.snapshot().version, start + 1);
  controls_.note(40, 100);
  state_.take_frame_snapshot();  // demotes the onset: a change the next frame must see
  EXPECT_EQ(state_.snapshot().version, start + 3);
  state_.take_frame_snapshot();  // nothing left to demote
  EXPECT_EQ(state_.snapshot().version, start + 3);
}

TEST_F(ControlsTest, ResetAndPrefillAreRefusedWithoutAGenerator) {
  EXPECT_EQ(controls_.reset(), "reset is not available without a running generator");
  EXPECT_EQ(controls_.prefill_silence(), "reset is not available without a running generator");
}

TEST_F(ControlsTest, ResetAndPrefillScheduleTheSameResetAndLeaveTheControls) {
  int resets = 0;
  Controls controls(state_, playback_, {}, 0.0f, [&] { ++resets; });
  const std::uint64_t version = state_.snapshot().version;
  EXPECT_EQ(controls.reset(), "");
  EXPECT_EQ(controls.prefill_silence(), "");
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(state_.snapshot().version, version);  // the performer's settings stay
}

}  // namespace
}  // namespace continuo
