#include "model/conditioning.hpp"

#include <gtest/gtest.h>

namespace continuo::model {
namespace {

TEST(ConditioningTest, CfgTokensBinAsTheOfficialSystem) {
  EXPECT_EQ(cfg_token(5.0f, 0.2, 40), 30);   // (5 + 1) / 0.2
  EXPECT_EQ(cfg_token(-1.0f, 0.2, 40), 0);
  EXPECT_EQ(cfg_token(7.0f, 0.2, 40), 40);
  EXPECT_EQ(cfg_token(12.0f, 0.2, 40), 40);  // clamped to 7 first
  EXPECT_EQ(cfg_token(-3.0f, 1.0, 8), 0);
  EXPECT_EQ(cfg_token(2.5f, 1.0, 8), 4);     // 3.5 rounds half to even
  EXPECT_EQ(cfg_token(1.5f, 1.0, 8), 2);     // 2.5 rounds half to even
  EXPECT_EQ(cfg_token(0.29f, 0.2, 40), 6);   // 6.45 -> 6
}

TEST(ConditioningTest, SnapshotMapsOntoRawTokens) {
  ControlSnapshot control;
  control.style_tokens[3] = 512;
  control.notes[60] = NoteState::onset;
  control.notes[64] = NoteState::sustain;
  control.notes[0] = NoteState::off;
  control.drums = 1;
  control.cfg_style = 3.0f;
  control.cfg_notes = -1.0f;
  control.cfg_drums = 2.0f;
  const FrameConditioning c = conditioning_from(control);
  EXPECT_EQ(c.style_tokens[3], 512);
  EXPECT_EQ(c.style_tokens[0], -1);
  EXPECT_EQ(c.notes[60], 2);
  EXPECT_EQ(c.notes[64], 1);
  EXPECT_EQ(c.notes[0], 0);
  EXPECT_EQ(c.notes[61], -1);  // untouched pitches stay masked: the model decides
  EXPECT_EQ(c.drum, 1);
  EXPECT_EQ(c.cfg_style_token, 20);
  EXPECT_EQ(c.cfg_notes_token, 0);
  EXPECT_EQ(c.cfg_drum_token, 3);
}

TEST(ConditioningTest, SamplingComesFromTheSnapshot) {
  ControlSnapshot control;
  control.temperature = 0.7f;
  control.top_k = 12;
  control.seed = 99;
  const SamplingParams s = sampling_from(control);
  EXPECT_EQ(s.temperature, 0.7f);
  EXPECT_EQ(s.top_k, 12);
  EXPECT_EQ(s.seed, 99u);
}

}  // namespace
}  // namespace continuo::model
