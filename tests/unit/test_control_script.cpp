#include "engine/control_script.hpp"

#include <gtest/gtest.h>

#include <string>

namespace continuo {
namespace {

TEST(ControlScript, ParsesLinesCommentsAndArgumentTypes) {
  const auto commands = parse_control_script(
      "# a demo\n"
      "\n"
      "2.5 /continuo/temperature 1.2   # warmer\n"
      "0 /continuo/style/tokens 1 2 3 4 5 6 7 8 9 10 11 12\n"
      "2.5 /continuo/topk 20\n",
      "demo.ctl");
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0].message.address, "/continuo/style/tokens");  // time order
  EXPECT_EQ(commands[0].line, 4);
  EXPECT_EQ(commands[0].message.types(), "iiiiiiiiiiii");
  EXPECT_EQ(commands[1].message.address, "/continuo/temperature");  // a tie keeps file order
  EXPECT_EQ(commands[1].message.types(), "d");
  EXPECT_DOUBLE_EQ(commands[1].seconds, 2.5);
  EXPECT_EQ(commands[2].message.address, "/continuo/topk");
}

TEST(ControlScript, AppliesThroughTheOscAddressMap) {
  ControlState state{ControlSnapshot{}};
  OfflineControls offline(state, 0.0f);
  const auto commands = parse_control_script(
      "0 /continuo/temperature 1.5\n"
      "0 /continuo/topk 7.0\n"  // a whole decimal where an integer is expected, as TouchDesigner sends
      "0 /continuo/note 60 100\n"
      "0 /continuo/volume -6\n"
      "0 /continuo/mute 1\n"
      "0 /continuo/status\n",
      "apply.ctl");
  for (const ControlCommand& command : commands) EXPECT_EQ(apply_control(command, offline.controls()), "");
  const ControlSnapshot snapshot = state.snapshot();
  EXPECT_FLOAT_EQ(snapshot.temperature, 1.5f);
  EXPECT_EQ(snapshot.top_k, 7);
  EXPECT_EQ(snapshot.notes[60], NoteState::onset);
  EXPECT_FLOAT_EQ(offline.controls().volume_db(), -6.0f);
  EXPECT_TRUE(offline.controls().muted());
}

void expect_error(const std::string& text, const std::string& expected) {
  try {
    parse_control_script(text, "bad.ctl");
    FAIL() << "no error for: " << text;
  } catch (const ControlScriptError& error) {
    EXPECT_EQ(std::string(error.what()), expected);
  }
}

TEST(ControlScript, BadLinesAreErrorsNamingFileAndLine) {
  expect_error("0 /continuo/temperature 1\n1 /continuo/tempo 2\n", "bad.ctl:2: /continuo/tempo: Command not found");
  expect_error("1 /continuo/temperature 20\n",
               "bad.ctl:1: /continuo/temperature: temperature must be greater than 0 and at most 10, got 20");
  expect_error("\n\nsoon /continuo/topk 3\n", "bad.ctl:3: expected a time in seconds (0..86400) first, got 'soon'");
  expect_error("-1 /continuo/topk 3\n", "bad.ctl:1: expected a time in seconds (0..86400) first, got '-1'");
  expect_error("1 continuo/topk 3\n", "bad.ctl:1: expected '<seconds> /continuo/<address> [args...]'");
  expect_error("1\n", "bad.ctl:1: expected '<seconds> /continuo/<address> [args...]'");
  expect_error("1 /continuo/prompt \"warm", "bad.ctl:1: unterminated \"string\"");
  expect_error("1 /continuo/topk x\n", "bad.ctl:1: /continuo/topk: argument 1 must be a number, got type s; expects i "
                                       "(sample among the k most likely tokens, 1..1024)");
  expect_error("1 /continuo/notify 1\n", "bad.ctl:1: /continuo/notify: not available in a control script");
}

// A script is checked before the model (and its text tower) loads: prompt lines are
// checked for their arguments, and blended at render time.
TEST(ControlScript, PromptLinesAreCheckedForTheirArguments) {
  const auto commands = parse_control_script(
      "0 /continuo/prompt \"warm strings\" 1.0\n1 /continuo/prompts \"a\" 1 \"b\" 0.5\n2 /continuo/prompt/2/text \"c\"\n",
      "prompt.ctl");
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[1].message.args[3].number, 0.5);
  try {
    parse_control_script("0 /continuo/prompt \"warm strings\" -1\n", "prompt.ctl");
    FAIL();
  } catch (const ControlScriptError& error) {
    EXPECT_STREQ(error.what(), "prompt.ctl:1: /continuo/prompt: prompt weight must be a finite number >= 0, got -1");
  }
}

// A prompt is any text: a quoted word stays a string when it reads as a number, and the
// words quote_control_word writes read back as the same text (an NSM session's state).
TEST(ControlScript, QuotedWordsAreStringsAndRoundTrip) {
  const std::string texts[] = {"1984", "say \"hi\"", "back\\slash", "two\nlines", "# not a comment", ""};
  for (const std::string& text : texts) {
    const auto commands = parse_control_script("0 /continuo/prompt/1/text " + quote_control_word(text) + "\n", "q.ctl");
    ASSERT_EQ(commands.size(), 1u) << text;
    ASSERT_EQ(commands[0].message.types(), "s") << text;
    EXPECT_EQ(commands[0].message.args[0].text, text);
  }
  expect_error("0 /continuo/prompt \"a\\tb\"\n", "bad.ctl:1: in a \"string\", a backslash must be followed by \", \\ or n");
}

TEST(ControlScript, MissingFileIsAnError) {
  EXPECT_THROW(read_control_script("/nonexistent/demo.ctl"), ControlScriptError);
}

}  // namespace
}  // namespace continuo
