#include "engine/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace continuo {
namespace {

namespace fs = std::filesystem;

fs::path source_dir() {
#ifdef CONTINUO_SOURCE_DIR
  return fs::path(CONTINUO_SOURCE_DIR);
#else
  return fs::path(__FILE__).parent_path().parent_path().parent_path();  // tests/unit/ -> root
#endif
}

std::string default_config_path() { return (source_dir() / "configs" / "default.toml").string(); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every key load_config accepts, in describe_config's order.
const std::vector<std::string> kAllKeys{
    "jack.client_name",     "jack.server_name",   "jack.output_ports",    "jack.input_ports",
    "jack.midi_port",       "jack.auto_connect",  "jack.connect_outputs", "jack.reconnect_interval_ms",
    "engine.lookahead_ms",  "engine.fade_ms",     "engine.gain_ramp_ms",  "engine.volume_db",
    "engine.resampler",     "model.spec",         "model.dir",          "model.seed",           "model.prefill_frames", "model.backend",
    "control.style_tokens",
    "control.drums",        "control.cfg_style",  "control.cfg_notes",    "control.cfg_drums",
    "control.temperature",  "control.top_k",      "control.seed",         "control.onset_mode",
    "render.sample_rate",
    "midi.channel",         "midi.takeover",      "midi.cc_map",          "midi.learn_file",
    "midi.backend",         "midi.alsa_port",
    "osc.enabled",          "osc.bind",           "osc.port",             "osc.allow",
    "osc.max_message_bytes", "osc.udp",           "osc.tcp",              "osc.tcp_port",
    "osc.tcp_max_clients",  "osc.secret",         "osc.rate_limit",       "osc.rate_burst",
    "record.dir",           "record.format",      "record.on_start",      "record.sync_ms",
    "record.buffer_seconds",
    "link.enabled",         "link.quantum",       "link.tempo",
    "input.capture_seconds",
    "prompts.dir",
    "log.level",            "presets"};

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("continuo_test_config_" + std::to_string(::getpid()) + "_" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "config.toml") {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // The ConfigError message load_config throws, or "" when it loads.
  std::string error_of(const std::string& path, const std::vector<std::string>& overrides = {}) {
    try {
      load_config(path, overrides);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DefaultFileEqualsBuiltInDefaultsExceptAutoConnect) {
  const std::string path = default_config_path();
  const Config loaded = load_config(path, {});
  Config expected;
  expected.jack.auto_connect = true;
  // The file ships two example presets; none is built in.
  EXPECT_TRUE(Config{}.presets.empty());
  ASSERT_EQ(loaded.presets.size(), 2u);
  EXPECT_EQ(loaded.presets[0].name, "calm");
  EXPECT_EQ(loaded.presets[0].program, 0);
  EXPECT_EQ(loaded.presets[1].name, "drive");
  EXPECT_EQ(loaded.presets[1].program, 1);
  expected.presets = loaded.presets;

  EXPECT_EQ(loaded.path, path);
  EXPECT_TRUE(loaded.jack.auto_connect);
  EXPECT_FALSE(Config{}.jack.auto_connect);
  EXPECT_EQ(loaded.jack.client_name, expected.jack.client_name);
  EXPECT_EQ(loaded.jack.output_ports, expected.jack.output_ports);
  EXPECT_EQ(loaded.jack.connect_outputs, expected.jack.connect_outputs);
  EXPECT_EQ(loaded.engine.lookahead_ms, expected.engine.lookahead_ms);
  EXPECT_EQ(loaded.engine.resampler, expected.engine.resampler);
  EXPECT_EQ(loaded.model.spec, "default");
  EXPECT_EQ(Config{}.model.spec, "default");
  EXPECT_EQ(loaded.model.backend, ModelBackend::automatic);
  EXPECT_EQ(loaded.control.style_tokens, expected.control.style_tokens);
  EXPECT_EQ(loaded.control.notes, expected.control.notes);
  EXPECT_EQ(loaded.control.temperature, expected.control.temperature);
  EXPECT_EQ(loaded.log_level, expected.log_level);
  // describe_config prints every key in round-trip precision, so equal text is equal values.
  EXPECT_EQ(describe_config(loaded), describe_config(expected));
}

TEST_F(ConfigTest, DefaultFileSetsEveryKey) {
  std::ifstream in(default_config_path());
  std::stringstream text;
  text << in.rdbuf();
  std::string section;
  std::vector<std::string> keys;
  bool array_of_tables = false;
  for (const std::string& line : lines_of(text.str())) {
    // Indented lines and a lone "]" continue a multi-line array (midi.cc_map).
    if (line.empty() || line[0] == '#' || line[0] == ' ' || line[0] == ']') continue;
    if (line.rfind("[[", 0) == 0) {
      // An array of tables ([[presets]]) is one key, however many entries it has.
      section = line.substr(2, line.find(']') - 2);
      if (std::find(keys.begin(), keys.end(), section) == keys.end()) keys.push_back(section);
      array_of_tables = true;
    } else if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      array_of_tables = false;
    } else if (!array_of_tables) {
      keys.push_back(section + "." + line.substr(0, line.find(' ')));
    }
  }
  std::vector<std::string> all = kAllKeys;
  std::sort(keys.begin(), keys.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(keys, all);
}

TEST_F(ConfigTest, EmptyFileGivesBuiltInDefaults) {
  const Config loaded = load_config(write(""), {});
  EXPECT_EQ(describe_config(loaded), describe_config(Config{}));
}

TEST_F(ConfigTest, ReadsEveryKindOfValue) {
  const Config c = load_config(write(R"([jack]
client_name = "bass"
output_ports = ["l", "r"]
connect_outputs = []
auto_connect = true
reconnect_interval_ms = 50
[engine]
lookahead_ms = 150
volume_db = -6.5
resampler = "best"
[model]
seed = 9007199254740993
[control]
style_tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1023]
drums = 1
temperature = 0.5
[render]
sample_rate = 44100
[log]
level = "debug"
)"),
                               {});
  EXPECT_EQ(c.jack.client_name, "bass");
  EXPECT_EQ(c.jack.output_ports, (std::vector<std::string>{"l", "r"}));
  EXPECT_TRUE(c.jack.connect_outputs.empty());
  EXPECT_TRUE(c.jack.auto_connect);
  EXPECT_EQ(c.jack.reconnect_interval_ms, 50);
  EXPECT_EQ(c.engine.lookahead_ms, 150.0);  // an integer where a float is expected
  EXPECT_EQ(c.engine.volume_db, -6.5);
  EXPECT_EQ(c.engine.resampler, ResamplerQuality::best);
  EXPECT_EQ(c.model.seed, 9007199254740993u);  // not rounded through a double
  EXPECT_EQ(c.control.style_tokens[0], 1);
  EXPECT_EQ(c.control.style_tokens[11], 1023);
  EXPECT_EQ(c.control.drums, 1);
  EXPECT_EQ(c.control.temperature, 0.5f);
  EXPECT_EQ(c.render.sample_rate, 44100);
  EXPECT_EQ(c.log_level, LogLevel::debug);
  EXPECT_EQ(c.jack.input_ports, JackConfig{}.input_ports);  // untouched keys keep defaults
  EXPECT_EQ(c.control.top_k, 40);
}

struct FileErrorCase {
  std::string text;
  std::string expected;  // after "<file>:"
};

TEST_F(ConfigTest, FileErrorsNameFileLineAndKey) {
  const std::vector<FileErrorCase> cases{
      {"[bogus]\nx = 1\n", "1: bogus: unknown section"},
      {"engine = 5\n", "1: engine: must be a table"},
      {"[engine]\nfade_ms = 5\nfade_time = 1\n", "3: engine.fade_time: unknown key"},
      {"[engine]\n\nfade_ms = \"x\"\n", "3: engine.fade_ms: must be a number"},
      {"[engine]\nlookahead_ms = 10\n", "2: engine.lookahead_ms: must be between 20 and 5000"},
      {"[engine]\nlookahead_ms = nan\n", "2: engine.lookahead_ms: must be between 20 and 5000"},
      {"[engine]\nvolume_db = 24.5\n", "2: engine.volume_db: must be between -120 and 24"},
      {"[engine]\nresampler = \"ultra\"\n",
       "2: engine.resampler: must be one of \"best\", \"medium\", \"fastest\""},
      {"[control]\ntop_k = 4.5\n", "2: control.top_k: must be an integer"},
      {"[control]\ntop_k = 0\n", "2: control.top_k: must be between 1 and 1024"},
      {"[control]\ntemperature = 0\n", "2: control.temperature: must be greater than 0 and at most 10"},
      {"[control]\ncfg_notes = 7.5\n", "2: control.cfg_notes: must be between -1 and 7"},
      {"[control]\nseed = -1\n", "2: control.seed: must be at least 0"},
      {"[control]\nstyle_tokens = [1, 2]\n", "2: control.style_tokens: must have exactly 12 items"},
      {"[control]\nstyle_tokens = [\n  0, 0, 0,\n  0, 0, 0,\n  1024, 0, 0,\n  0, 0, 0]\n",
       "5: control.style_tokens[6]: must be between -1 and 1023"},
      {"[jack]\nauto_connect = 1\n", "2: jack.auto_connect: must be true or false"},
      {"[jack]\nclient_name = \"\"\n", "2: jack.client_name: must not be empty"},
      {"[jack]\nclient_name = \"" + std::string(64, 'c') + "\"\n",
       "2: jack.client_name: must be at most 63 characters"},
      {"[jack]\noutput_ports = \"out\"\n", "2: jack.output_ports: must be an array"},
      {"[jack]\ninput_ports = [\"a\", \"b\", \"c\"]\n", "2: jack.input_ports: must have exactly 2 items"},
      {"[jack]\noutput_ports = [\"a\", \"\"]\n", "2: jack.output_ports[1]: must not be empty"},
      {"[jack]\noutput_ports = [\"a\", 2]\n", "2: jack.output_ports[1]: must be a string"},
      {"[jack]\nconnect_outputs = [\"a\", \"b\", \"c\"]\n", "2: jack.connect_outputs: must have at most 2 items"},
      {"[jack]\nreconnect_interval_ms = 10001\n", "2: jack.reconnect_interval_ms: must be between 50 and 10000"},
      {"[render]\nsample_rate = 4000\n", "2: render.sample_rate: must be 0 or between 8000 and 192000"},
      {"[model]\nspec = \"\"\n", "2: model.spec: must not be empty"},
      {"[model]\nbackend = \"gpu\"\n", "2: model.backend: must be one of \"auto\", \"cuda\", \"cpu\""},
      {"[osc]\nport = 0\n", "2: osc.port: must be between 1 and 65535"},
      {"[osc]\nport = 65536\n", "2: osc.port: must be between 1 and 65535"},
      {"[osc]\nenabled = 1\n", "2: osc.enabled: must be true or false"},
      {"[osc]\nbind = \"\"\n", "2: osc.bind: must not be empty"},
      {"[osc]\nallow = \"127.0.0.1\"\n", "2: osc.allow: must be an array"},
      {"[osc]\nallow = [\"\"]\n", "2: osc.allow[0]: must not be empty"},
      {"[osc]\nmax_message_bytes = 65508\n", "2: osc.max_message_bytes: must be between 64 and 65507"},
      {"[log]\nlevel = \"verbose\"\n", "2: log.level: must be one of \"debug\", \"info\", \"warn\", \"error\""},
  };
  for (const FileErrorCase& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string path = write(c.text);
    EXPECT_EQ(error_of(path), path + ":" + c.expected);
  }
}

TEST_F(ConfigTest, RangeEdgesAreAccepted) {
  const Config c = load_config(write("[render]\nsample_rate = 0\n[engine]\nlookahead_ms = 5000\nfade_ms = 0\n"
                                     "[control]\ntemperature = 10\ndrums = -1\n"),
                               {});
  EXPECT_EQ(c.render.sample_rate, 0);
  EXPECT_EQ(c.engine.lookahead_ms, 5000.0);
  EXPECT_EQ(c.engine.fade_ms, 0.0);
  EXPECT_EQ(c.control.temperature, 10.0f);
}

TEST_F(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  const std::string path = write("[engine]\nfade_ms = = 3\n");
  const std::string message = error_of(path);
  EXPECT_EQ(message.rfind(path + ":2:11: ", 0), 0u) << message;
  EXPECT_GT(message.size(), (path + ":2:11: ").size()) << "no description: " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(ConfigTest, MissingOrUnreadableFile) {
  const std::string missing = (dir_ / "nope.toml").string();
  EXPECT_EQ(error_of(missing), missing + ": cannot read config: No such file or directory");
  EXPECT_EQ(error_of(dir_.string()), dir_.string() + ": cannot read config: Is a directory");
}

TEST_F(ConfigTest, OverridesWinOverTheFile) {
  const std::string path = write("[engine]\nfade_ms = 5\nlookahead_ms = 300\n");
  const Config c = load_config(path, {"engine.fade_ms=7", "model.spec=double:counter", "log.level=\"warn\"",
                                      "jack.output_ports=[\"a\", \"b\"]", "control.seed=3", "control.seed=4"});
  EXPECT_EQ(c.engine.fade_ms, 7.0);
  EXPECT_EQ(c.engine.lookahead_ms, 300.0);  // from the file, not overridden
  EXPECT_EQ(c.model.spec, "double:counter");  // not TOML: taken as a bare string
  EXPECT_EQ(c.log_level, LogLevel::warn);
  EXPECT_EQ(c.jack.output_ports, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.control.seed, 4u);  // the last of two wins
}

TEST_F(ConfigTest, ModelBackendIsAutoUnlessSet) {
  EXPECT_EQ(load_config("", {}).model.backend, ModelBackend::automatic);
  EXPECT_EQ(load_config(write("[model]\nbackend = \"cuda\"\n"), {}).model.backend, ModelBackend::cuda);
  EXPECT_EQ(load_config("", {"model.backend=cpu"}).model.backend, ModelBackend::cpu);  // --backend cpu
  EXPECT_EQ(load_config("", {"model.backend=\"auto\""}).model.backend, ModelBackend::automatic);
}

TEST_F(ConfigTest, OverridesAreValidated) {
  const std::string path = write("[engine]\nfade_ms = 5\n");
  EXPECT_EQ(error_of(path, {"engine.fade_ms=x"}), "--set engine.fade_ms=x: engine.fade_ms: must be a number");
  EXPECT_EQ(error_of(path, {"engine.lookahead_ms=1"}),
            "--set engine.lookahead_ms=1: engine.lookahead_ms: must be between 20 and 5000");
  EXPECT_EQ(error_of(path, {"engine.fade"}), "--set engine.fade: expected section.key=value");
  EXPECT_EQ(error_of(path, {"fade_ms=3"}), "--set fade_ms=3: expected section.key=value");
  EXPECT_EQ(error_of(path, {".fade_ms=3"}), "--set .fade_ms=3: expected section.key=value");
  EXPECT_EQ(error_of(path, {"engine.=3"}), "--set engine.=3: expected section.key=value");
  EXPECT_EQ(error_of(path, {"engine.fade=3"}), "--set engine.fade=3: engine.fade: unknown key");
  EXPECT_EQ(error_of(path, {"bogus.x=3"}), "--set bogus.x=3: bogus: unknown section");
  EXPECT_EQ(error_of(path, {"control.style_tokens=[0,0,0,0,0,0,0,0,0,0,0,-2]"}),
            "--set control.style_tokens=[0,0,0,0,0,0,0,0,0,0,0,-2]: control.style_tokens[11]: "
            "must be between -1 and 1023");
  // An error in the file still points at the file when flags are given too.
  const std::string bad = write("[engine]\nfade_ms = 5000\n", "bad.toml");
  EXPECT_EQ(error_of(bad, {"engine.lookahead_ms=100"}), bad + ":2: engine.fade_ms: must be between 0 and 1000");
}

TEST_F(ConfigTest, OverrideCannotReplaceANonTableSection) {
  const std::string path = write("engine = 5\n");
  EXPECT_EQ(error_of(path, {"engine.fade_ms=3"}), path + ":1: engine: must be a table");
}

TEST_F(ConfigTest, DescribeListsEveryKeyOncePerLine) {
  const std::vector<std::string> lines = lines_of(describe_config(Config{}));
  ASSERT_EQ(lines.size(), kAllKeys.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind(kAllKeys[i] + " = ", 0), 0u) << lines[i];
  }
  const std::string text = describe_config(Config{});
  EXPECT_NE(text.find("jack.client_name = \"continuo\"\n"), std::string::npos);
  EXPECT_NE(text.find("jack.output_ports = [\"out_l\", \"out_r\"]\n"), std::string::npos);
  EXPECT_NE(text.find("jack.auto_connect = false\n"), std::string::npos);
  EXPECT_NE(text.find("engine.lookahead_ms = 200.0\n"), std::string::npos);
  EXPECT_NE(text.find("engine.resampler = \"medium\"\n"), std::string::npos);
  EXPECT_NE(text.find("control.style_tokens = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]\n"), std::string::npos);
  EXPECT_NE(text.find("control.temperature = 1.1\n"), std::string::npos);
  EXPECT_NE(text.find("render.sample_rate = 0\n"), std::string::npos);
  EXPECT_NE(text.find("log.level = \"info\"\n"), std::string::npos);
}

TEST_F(ConfigTest, DescribeOutputLoadsBackToTheSameConfig) {
  // "section.key = value" lines are TOML dotted keys, so the description is a config file.
  Config c = load_config(write(R"([jack]
client_name = "say \"hi\"\\"
connect_outputs = ["x:1"]
[engine]
volume_db = -3.25
resampler = "fastest"
[control]
style_tokens = [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]
cfg_style = 2.2
[log]
level = "error"
)"),
                         {});
  const std::string description = describe_config(c);
  const Config again = load_config(write(description, "described.toml"), {});
  EXPECT_EQ(describe_config(again), description);
  EXPECT_EQ(again.jack.client_name, "say \"hi\"\\");
  EXPECT_EQ(again.control.cfg_style, 2.2f);
  EXPECT_EQ(again.engine.resampler, ResamplerQuality::fastest);
}

// An NSM session's saved state: chosen keys written as TOML and read over a config.
TEST_F(ConfigTest, ConfigTomlLoadsBackAsALayer) {
  Config saved;
  saved.control.temperature = 0.35f;
  saved.control.style_tokens = {7, -1, 1023, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  saved.engine.volume_db = -6.5;
  const std::string text = config_toml(saved, {"control.temperature", "control.style_tokens", "engine.volume_db"});
  EXPECT_EQ(text,
            "[control]\ntemperature = 0.35\nstyle_tokens = [7, -1, 1023, 0, 0, 0, 0, 0, 0, 0, 0, 2]\n\n"
            "[engine]\nvolume_db = -6.5\n");
  Config layered = load_config(write("[control]\ntop_k = 9\ntemperature = 2.0\n"), {});
  load_config_layer(layered, write(text, "state.toml"));
  EXPECT_EQ(layered.control.temperature, 0.35f);
  EXPECT_EQ(layered.control.style_tokens, saved.control.style_tokens);
  EXPECT_EQ(layered.engine.volume_db, -6.5);
  EXPECT_EQ(layered.control.top_k, 9);  // not in the layer: the config's value stays
  EXPECT_THROW(config_toml(saved, {"control.nonsense"}), std::logic_error);
}

TEST_F(ConfigTest, LayerErrorsNameTheLayerFileLineAndKey) {
  Config config;
  const std::string path = write("[control]\n\ntop_k = 0\n", "state.toml");
  try {
    load_config_layer(config, path);
    FAIL() << "a bad layer loaded";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), path + ":3: control.top_k: must be between 1 and 1024");
  }
}

TEST_F(ConfigTest, ReadsTheOscSection) {
  const Config c = load_config(write("[osc]\nenabled = false\nbind = \"::1\"\nport = 57120\n"
                                     "allow = [\"10.0.0.0/8\", \"::1/128\"]\nmax_message_bytes = 65507\n"),
                               {"osc.port=9001"});
  EXPECT_FALSE(c.osc.enabled);
  EXPECT_EQ(c.osc.bind, "::1");
  EXPECT_EQ(c.osc.port, 9001);
  EXPECT_EQ(c.osc.allow, (std::vector<std::string>{"10.0.0.0/8", "::1/128"}));
  EXPECT_EQ(c.osc.max_message_bytes, 65507);
  const OscConfig defaults;
  EXPECT_TRUE(defaults.enabled);
  EXPECT_EQ(defaults.bind, "127.0.0.1");
  EXPECT_EQ(defaults.port, 9000);
  EXPECT_EQ(defaults.allow, (std::vector<std::string>{"127.0.0.0/8"}));
}

TEST(ConfigBuiltIn, NoFileMeansDefaultsWithOverridesApplied) {
  const Config config = load_config("", {"model.spec=\"double:counter\"", "engine.fade_ms=3"});
  EXPECT_EQ(config.path, "(built-in defaults)");
  EXPECT_EQ(config.model.spec, "double:counter");
  EXPECT_EQ(config.engine.fade_ms, 3.0);
  EXPECT_EQ(config.engine.lookahead_ms, Config{}.engine.lookahead_ms);
}

}  // namespace
}  // namespace continuo
