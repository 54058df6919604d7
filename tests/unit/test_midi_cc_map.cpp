#include "midi/cc_map.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace continuo {
namespace {

std::optional<double> value_of(const std::optional<ParamChange>& change) {
  return change ? std::optional<double>(change->value) : std::nullopt;
}

TEST(MidiCcMap, SevenBitSweepsTheRangeLinearly) {
  CcMap map({{70, MidiParam::temperature, 0.5, 2.0, 7}}, MidiTakeover::none);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 0)), 0.5);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 127)), 2.0);
  const auto mid = map.control_change(70, 64);
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->param, MidiParam::temperature);
  EXPECT_DOUBLE_EQ(mid->value, 0.5 + 1.5 * 64 / 127.0);
}

TEST(MidiCcMap, InvertedRangeAndUnmappedCcs) {
  CcMap map({{7, MidiParam::volume_db, 6, -60, 7}}, MidiTakeover::none);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(7, 0)), 6.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(7, 127)), -60.0);
  EXPECT_FALSE(map.control_change(8, 64));
  EXPECT_FALSE(map.control_change(39, 64));  // not an LSB of a 7-bit mapping
  EXPECT_FALSE(map.control_change(7, 128));  // not a MIDI value
  EXPECT_FALSE(map.control_change(-1, 0));
}

TEST(MidiCcMap, IntegerParametersAreRounded) {
  CcMap map({{71, MidiParam::top_k, 1, 256, 7}, {75, MidiParam::drums, -1, 1, 7}, {77, MidiParam::mute, 0, 1, 7}},
            MidiTakeover::none);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(71, 1)), 3.0);  // 1 + 255/127 = 3.007
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(75, 0)), -1.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(75, 64)), 0.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(75, 127)), 1.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(77, 63)), 0.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(77, 64)), 1.0);
}

TEST(MidiCcMap, FourteenBitPairMsbThenLsb) {
  CcMap map({{1, MidiParam::cfg_style, 0, 16383, 14}}, MidiTakeover::none);
  EXPECT_FALSE(map.control_change(33, 5));  // an LSB before any MSB refines nothing
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(1, 0x40)), 0x40 << 7);  // MSB resets the LSB
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(33, 0x11)), (0x40 << 7) | 0x11);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(33, 0x7F)), (0x40 << 7) | 0x7F);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(1, 0x7F)), 0x7F << 7);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(33, 0x7F)), 16383.0);
  EXPECT_TRUE(map.maps(1));
  EXPECT_TRUE(map.maps(33));
  EXPECT_FALSE(map.maps(2));
}

TEST(MidiCcMap, FourteenBitResolutionIsFinerThanSevenBit) {
  CcMap map({{2, MidiParam::temperature, 0.1, 2.0, 14}}, MidiTakeover::none);
  map.control_change(2, 64);
  const double a = *value_of(map.control_change(34, 0));
  const double b = *value_of(map.control_change(34, 1));
  EXPECT_NEAR(b - a, 1.9 / 16383.0, 1e-12);
}

TEST(MidiCcMap, PickupIgnoresAKnobFarFromTheValueUntilItCrosses) {
  CcMap map({{70, MidiParam::cfg_style, 0, 127, 7}}, MidiTakeover::pickup);
  map.sync(MidiParam::cfg_style, 64.0);
  EXPECT_FALSE(map.control_change(70, 10));   // far below: nothing
  EXPECT_FALSE(map.control_change(70, 30));
  EXPECT_FALSE(map.control_change(70, 62));   // still below
  EXPECT_EQ(*map.current(MidiParam::cfg_style), 64.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 66)), 66.0);  // crossed 64: picked up
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 20)), 20.0);  // and follows from then on
  EXPECT_EQ(*map.current(MidiParam::cfg_style), 20.0);
}

TEST(MidiCcMap, PickupFromAboveAndWhenLandingExactlyOnTheValue) {
  CcMap map({{70, MidiParam::cfg_style, 0, 127, 7}}, MidiTakeover::pickup);
  map.sync(MidiParam::cfg_style, 64.0);
  EXPECT_FALSE(map.control_change(70, 120));
  EXPECT_FALSE(map.control_change(70, 90));
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 64)), 64.0);
  map.sync(MidiParam::cfg_style, 10.0);  // changed elsewhere: the knob must pick it up again
  EXPECT_FALSE(map.control_change(70, 65));
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 11)), 11.0);  // within one step
}

TEST(MidiCcMap, PickupOnAFirstMoveNeedsToBeNearTheValue) {
  CcMap map({{70, MidiParam::temperature, 0, 1.27, 7}}, MidiTakeover::pickup);
  map.sync(MidiParam::temperature, 1.0);
  EXPECT_FALSE(map.control_change(70, 0));
  CcMap near({{70, MidiParam::temperature, 0, 1.27, 7}}, MidiTakeover::pickup);
  near.sync(MidiParam::temperature, 1.0);
  EXPECT_TRUE(near.control_change(70, 100));
}

TEST(MidiCcMap, UnknownValueIsTakenAtOnce) {
  CcMap map({{70, MidiParam::cfg_notes, 0, 7, 7}}, MidiTakeover::pickup);
  EXPECT_TRUE(map.control_change(70, 127));  // nothing to jump from
}

TEST(MidiCcMap, TakeoverNoneJumps) {
  CcMap map({{70, MidiParam::cfg_style, 0, 127, 7}}, MidiTakeover::none);
  map.sync(MidiParam::cfg_style, 64.0);
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(70, 0)), 0.0);
}

TEST(MidiCcMap, TwoKnobsOnOneParameterHandOver) {
  CcMap map({{76, MidiParam::volume_db, -60, 6, 7}, {7, MidiParam::volume_db, -60, 6, 7}}, MidiTakeover::pickup);
  map.sync(MidiParam::volume_db, 0.0);
  // 0 dB is CC value 115.45: knob 76 picks it up by crossing it.
  EXPECT_FALSE(map.control_change(76, 100));
  EXPECT_TRUE(map.control_change(76, 120));
  EXPECT_TRUE(map.control_change(76, 60));  // volume now about -28.8 dB
  // The fader still sits at its old place (127): it must come down to the knob's value.
  EXPECT_FALSE(map.control_change(7, 127));
  EXPECT_FALSE(map.control_change(7, 90));
  EXPECT_TRUE(map.control_change(7, 59));
  // And now the knob is the one that has to pick up again.
  EXPECT_FALSE(map.control_change(76, 100));
}

TEST(MidiCcMap, ValueOutsideTheKnobsRangeIsPickedUpAtItsEnd) {
  CcMap map({{72, MidiParam::cfg_style, 0, 3, 7}}, MidiTakeover::pickup);
  map.sync(MidiParam::cfg_style, 5.0);
  EXPECT_FALSE(map.control_change(72, 100));
  EXPECT_DOUBLE_EQ(*value_of(map.control_change(72, 127)), 3.0);
}

TEST(MidiCcMap, FourteenBitPickup) {
  CcMap map({{1, MidiParam::cfg_style, 0, 16383, 14}}, MidiTakeover::pickup);
  map.sync(MidiParam::cfg_style, 8000.0);
  EXPECT_FALSE(map.control_change(1, 10));
  EXPECT_FALSE(map.control_change(33, 3));
  EXPECT_FALSE(map.control_change(1, 62));      // 7936: still below
  EXPECT_TRUE(map.control_change(1, 63));       // 8064: crossed 8000
}

}  // namespace
}  // namespace continuo
