#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/config.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;

class MidiConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("continuo_test_midi_config_" + std::to_string(::getpid()) + ".toml");
  }
  void TearDown() override { fs::remove(path_); }

  Config load(const std::string& text) {
    std::ofstream(path_) << text;
    return load_config(path_.string(), {});
  }
  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& error) {
      return std::string(error.what()).substr(path_.string().size() + 1);
    }
    return "";
  }

  fs::path path_;
};

TEST_F(MidiConfigTest, DefaultsListenOmniWithPickupAndTheGenericMapping) {
  const MidiConfig midi = Config{}.midi;
  EXPECT_EQ(midi.channel, 0);
  EXPECT_EQ(midi.takeover, MidiTakeover::pickup);
  ASSERT_EQ(midi.cc_map.size(), 9u);
  EXPECT_EQ(midi.cc_map[0], (MidiCcMapping{70, MidiParam::temperature, 0.1, 2.5, 7}));
  EXPECT_EQ(midi.cc_map[8], (MidiCcMapping{7, MidiParam::volume_db, -60, 6, 7}));
}

TEST_F(MidiConfigTest, ReadsChannelTakeoverAndMappings) {
  const Config c = load(R"([midi]
channel = 10
takeover = "none"
cc_map = [
  {cc = 1, param = "cfg_notes", min = 7.0, max = 0, bits = 14},
  {cc = 74, param = "top_k"},
]
)");
  EXPECT_EQ(c.midi.channel, 10);
  EXPECT_EQ(c.midi.takeover, MidiTakeover::none);
  ASSERT_EQ(c.midi.cc_map.size(), 2u);
  EXPECT_EQ(c.midi.cc_map[0], (MidiCcMapping{1, MidiParam::cfg_notes, 7, 0, 14}));
  EXPECT_EQ(c.midi.cc_map[1], (MidiCcMapping{74, MidiParam::top_k, 1, 1024, 7}));  // the whole range
  EXPECT_TRUE(load("[midi]\ncc_map = []\n").midi.cc_map.empty());
}

TEST_F(MidiConfigTest, ErrorsNameTheEntryAndKey) {
  EXPECT_EQ(error_of("[midi]\nchannel = 17\n"), "2: midi.channel: must be between 0 and 16");
  EXPECT_EQ(error_of("[midi]\ntakeover = \"scale\"\n"), "2: midi.takeover: must be one of \"none\", \"pickup\"");
  EXPECT_EQ(error_of("[midi]\ncc_map = 5\n"), "2: midi.cc_map: must be an array");
  EXPECT_EQ(error_of("[midi]\ncc_map = [5]\n"),
            "2: midi.cc_map[0]: must be a table such as {cc = 70, param = \"temperature\"}");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 70}]\n"), "2: midi.cc_map[0]: needs param");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{param = \"top_k\"}]\n"), "2: midi.cc_map[0]: needs cc");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 70, param = \"pitch\"}]\n"),
            "2: midi.cc_map[0].param: must be one of \"temperature\", \"top_k\", \"cfg_style\", \"cfg_notes\", "
            "\"cfg_drums\", \"drums\", \"volume_db\", \"mute\"");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 128, param = \"top_k\"}]\n"),
            "2: midi.cc_map[0].cc: must be between 0 and 127");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 70, param = \"cfg_style\", max = 8}]\n"),
            "2: midi.cc_map[0].max: must be between -1 and 7");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 70, param = \"cfg_style\", bits = 8}]\n"),
            "2: midi.cc_map[0].bits: must be 7 or 14");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 70, param = \"cfg_style\", bits = 14.0}]\n"),
            "2: midi.cc_map[0].bits: must be 7 or 14");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 40, param = \"cfg_style\", bits = 14}]\n"),
            "2: midi.cc_map[0].cc: must be between 0 and 31 with bits = 14");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 70, param = \"top_k\", curve = 2}]\n"),
            "2: midi.cc_map[0].curve: unknown key");
  EXPECT_EQ(error_of("[midi]\ncc_map = [{cc = 1, param = \"top_k\", bits = 14}, {cc = 33, param = \"drums\"}]\n"),
            "2: midi.cc_map[1]: CC 33 is already mapped");
}

TEST_F(MidiConfigTest, DescribedMappingLoadsBack) {
  Config c;
  c.midi.cc_map = {{3, MidiParam::mute, 0, 1, 14}};
  const std::string text = describe_config(c);
  EXPECT_NE(text.find("midi.cc_map = [{cc = 3, param = \"mute\", min = 0.0, max = 1.0, bits = 14}]\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(load(text).midi.cc_map, c.midi.cc_map);
}

TEST_F(MidiConfigTest, OverrideReplacesTheMapping) {
  const Config c = load_config("", {"midi.cc_map=[{cc = 20, param = \"drums\"}]", "midi.channel=2"});
  EXPECT_EQ(c.midi.cc_map, (std::vector<MidiCcMapping>{{20, MidiParam::drums, -1, 1, 7}}));
  EXPECT_EQ(c.midi.channel, 2);
}

}  // namespace
}  // namespace continuo
