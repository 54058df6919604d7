#include "engine/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace continuo {
namespace {

// Says where a value came from: "file:line" for the file, "--set flag" for an override.
struct Checker {
  std::string file;
  std::map<std::string, std::string> flags;  // "section.key" (or "section") -> the --set text

  std::string where(const std::string& name, const toml::node& node) const {
    const auto flag = flags.find(name.substr(0, name.find('[')));
    if (flag != flags.end()) return "--set " + flag->second;
    const auto line = node.source().begin.line;
    return line == 0 ? file : file + ":" + std::to_string(line);
  }

  [[noreturn]] void fail(const std::string& name, const toml::node& node, std::string_view problem) const {
    throw ConfigError(where(name, node) + ": " + name + ": " + std::string(problem));
  }
};

// ---- Formatting values as TOML -------------------------------------------------------

template <typename T>
std::string shortest(T value) {
  char text[64];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

std::string show(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      quoted += escape;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

std::string show(bool value) { return value ? "true" : "false"; }

template <typename T>
  requires std::is_arithmetic_v<T>
std::string show(T value) {
  std::string text = shortest(value);
  // TOML reads "5" as an integer; a float key must print as a float.
  if (std::is_floating_point_v<T> && text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

template <typename Items>
  requires requires(const Items& items) { items.begin()->size(); } || std::is_arithmetic_v<typename Items::value_type>
std::string show(const Items& items) {
  std::string text = "[";
  for (const auto& item : items) text += (text.size() > 1 ? ", " : "") + show(item);
  return text + "]";
}

// ---- Rules: what a key accepts, each with one reader --------------------------------

struct Range {
  double lo;
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  std::optional<double> also{};  // one more accepted value outside [lo, hi]

  bool contains(double value) const {
    if (also && value == *also) return true;
    return (lo_open ? value > lo : value >= lo) && value <= hi;  // false for NaN
  }

  std::string text() const {
    std::string text = "must be ";
    if (also) text += shortest(*also) + " or ";
    if (hi == std::numeric_limits<double>::infinity()) {
      return text + (lo_open ? "greater than " : "at least ") + shortest(lo);
    }
    if (lo_open) return text + "greater than " + shortest(lo) + " and at most " + shortest(hi);
    return text + "between " + shortest(lo) + " and " + shortest(hi);
  }
};

struct Text {
  bool non_empty = false;
  std::size_t max_length = std::string::npos;
};

struct Flag {};

template <typename E>
using Choices = std::vector<std::pair<std::string_view, E>>;

template <typename Item>
struct List {
  std::size_t min;
  std::size_t max;
  Item item;

  std::string text() const {
    if (min == max) return "must have exactly " + std::to_string(min) + " items";
    if (min == 0) return "must have at most " + std::to_string(max) + " items";
    return "must have between " + std::to_string(min) + " and " + std::to_string(max) + " items";
  }
};

template <typename T>
  requires std::is_arithmetic_v<T>
T read(const Checker& checker, const std::string& name, const toml::node& node, const Range& range) {
  T value{};
  if constexpr (std::is_integral_v<T>) {
    const auto* integer = node.as_integer();
    if (integer == nullptr) checker.fail(name, node, "must be an integer");
    value = static_cast<T>(integer->get());
    if (!range.contains(static_cast<double>(integer->get()))) checker.fail(name, node, range.text());
  } else {
    if (!node.is_number()) checker.fail(name, node, "must be a number");
    const double number = *node.value<double>();
    if (!range.contains(number)) checker.fail(name, node, range.text());
    value = static_cast<T>(number);
  }
  return value;
}

template <typename T>
  requires std::is_same_v<T, std::string>
T read(const Checker& checker, const std::string& name, const toml::node& node, const Text& rule) {
  const auto* text = node.as_string();
  if (text == nullptr) checker.fail(name, node, "must be a string");
  if (rule.non_empty && text->get().empty()) checker.fail(name, node, "must not be empty");
  if (text->get().size() > rule.max_length) {
    checker.fail(name, node, "must be at most " + std::to_string(rule.max_length) + " characters");
  }
  return text->get();
}

template <typename T>
  requires std::is_same_v<T, bool>
T read(const Checker& checker, const std::string& name, const toml::node& node, Flag) {
  const auto* flag = node.as_boolean();
  if (flag == nullptr) checker.fail(name, node, "must be true or false");
  return flag->get();
}

template <typename T>
T read(const Checker& checker, const std::string& name, const toml::node& node, const Choices<T>& choices) {
  const auto* text = node.as_string();
  if (text != nullptr) {
    for (const auto& [choice, value] : choices) {
      if (text->get() == choice) return value;
    }
  }
  std::string problem = "must be one of";
  for (const auto& choice : choices) problem += (&choice == &choices.front() ? " " : ", ") + show(std::string(choice.first));
  checker.fail(name, node, problem);
}

// T is a std::vector (any length the rule allows) or a std::array (the rule's exact length).
template <typename T, typename Item>
T read(const Checker& checker, const std::string& name, const toml::node& node, const List<Item>& list) {
  const auto* items = node.as_array();
  if (items == nullptr) checker.fail(name, node, "must be an array");
  if (items->size() < list.min || items->size() > list.max) checker.fail(name, node, list.text());
  T out{};
  if constexpr (requires { out.resize(std::size_t{}); }) out.resize(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string item_name = name + "[" + std::to_string(i) + "]";
    out[i] = read<typename T::value_type>(checker, item_name, *items->get(i), list.item);
  }
  return out;
}

// ---- The keys -------------------------------------------------------------------------

const Choices<ResamplerQuality> kResamplers{
    {"best", ResamplerQuality::best}, {"medium", ResamplerQuality::medium}, {"fastest", ResamplerQuality::fastest}};
const Choices<LogLevel> kLogLevels{
    {"debug", LogLevel::debug}, {"info", LogLevel::info}, {"warn", LogLevel::warn}, {"error", LogLevel::error}};

template <typename E>
std::string show_choice(const Choices<E>& choices, E value) {
  const auto found = std::find_if(choices.begin(), choices.end(), [&](const auto& c) { return c.second == value; });
  return show(std::string(found == choices.end() ? "?" : found->first));
}

std::string show(ResamplerQuality quality) { return show_choice(kResamplers, quality); }
std::string show(LogLevel level) { return show_choice(kLogLevels, level); }

// ---- [midi] -----------------------------------------------------------------------------

const Choices<MidiTakeover> kTakeovers{{"none", MidiTakeover::none}, {"pickup", MidiTakeover::pickup}};

std::string show(MidiTakeover takeover) { return show_choice(kTakeovers, takeover); }

const Choices<MidiBackend> kMidiBackends{{"jack", MidiBackend::jack}, {"alsa", MidiBackend::alsa}};

std::string show(MidiBackend backend) { return show_choice(kMidiBackends, backend); }

const Choices<ModelBackend> kModelBackends{
    {"auto", ModelBackend::automatic}, {"cuda", ModelBackend::cuda}, {"cpu", ModelBackend::cpu}};

std::string show(ModelBackend backend) { return show_choice(kModelBackends, backend); }

const Choices<AudioFormat> kAudioFormats{{"wav", AudioFormat::wav}, {"flac", AudioFormat::flac}};

std::string show(AudioFormat format) { return show_choice(kAudioFormats, format); }

// One line, so describe_config stays "section.key = value" per line.
std::string show(const std::vector<MidiCcMapping>& map) {
  std::string text = "[";
  for (const MidiCcMapping& m : map) {
    text += (text.size() > 1 ? ", " : "") + std::string("{cc = ") + show(m.cc) +
            ", param = " + show(std::string(midi_param_info(m.param).name)) + ", min = " + show(m.min) +
            ", max = " + show(m.max) + ", bits = " + show(m.bits) + "}";
  }
  return text + "]";
}

// midi.cc_map: an array of inline tables {cc, param, min, max, bits}.
struct CcMapRule {};

MidiCcMapping read_cc_mapping(const Checker& checker, const std::string& name, const toml::node& node) {
  const auto* table = node.as_table();
  if (table == nullptr) checker.fail(name, node, "must be a table such as {cc = 70, param = \"temperature\"}");
  MidiCcMapping m;
  const toml::node* param = table->get("param");
  if (param == nullptr) checker.fail(name, node, "needs param");
  Choices<MidiParam> params;
  for (const MidiParamInfo& info : kMidiParams) params.emplace_back(info.name, info.param);
  m.param = read<MidiParam>(checker, name + ".param", *param, params);
  const MidiParamInfo& info = midi_param_info(m.param);
  m.min = info.lo;
  m.max = info.hi;
  bool has_cc = false;
  for (const auto& [key, value] : *table) {
    const std::string key_name = name + "." + std::string(key.str());
    if (key == "cc") {
      m.cc = read<int>(checker, key_name, value, Range{.lo = 0, .hi = 127});
      has_cc = true;
    } else if (key == "min") {
      m.min = read<double>(checker, key_name, value, Range{.lo = info.lo, .hi = info.hi});
    } else if (key == "max") {
      m.max = read<double>(checker, key_name, value, Range{.lo = info.lo, .hi = info.hi});
    } else if (key == "bits") {
      m.bits = value.value<std::int64_t>().value_or(0) == 14 ? 14 : 7;
      if (value.value<std::int64_t>() != m.bits || !value.is_integer()) checker.fail(key_name, value, "must be 7 or 14");
    } else if (key != "param") {
      checker.fail(key_name, value, "unknown key");
    }
  }
  if (!has_cc) checker.fail(name, node, "needs cc");
  // A 14-bit pair sends its LSB on cc + 32, so only CCs 0..31 can be its MSB.
  if (m.bits == 14 && m.cc > 31) checker.fail(name + ".cc", *table->get("cc"), "must be between 0 and 31 with bits = 14");
  return m;
}

template <typename T>
  requires std::is_same_v<T, std::vector<MidiCcMapping>>
T read(const Checker& checker, const std::string& name, const toml::node& node, CcMapRule) {
  const auto* items = node.as_array();
  if (items == nullptr) checker.fail(name, node, "must be an array");
  T map;
  std::array<bool, 128> used{};
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string item_name = name + "[" + std::to_string(i) + "]";
    const MidiCcMapping m = read_cc_mapping(checker, item_name, *items->get(i));
    std::vector<int> ccs{m.cc};
    if (m.bits == 14) ccs.push_back(m.cc + 32);
    for (const int cc : ccs) {
      if (used[cc]) checker.fail(item_name, *items->get(i), "CC " + std::to_string(cc) + " is already mapped");
      used[cc] = true;
    }
    map.push_back(m);
  }
  return map;
}

// ---- [[presets]] ---------------------------------------------------------------------

// The control ranges, shared by [control] and every preset.
const Range kTemperature{.lo = 0, .hi = 10, .lo_open = true};
const Range kTopK{.lo = 1, .hi = 1024};
const Range kCfg{.lo = -1, .hi = 7};
const Range kDrums{.lo = -1, .hi = 1};
const Range kOnsetMode{.lo = 0, .hi = 1};
const List<Range> kStyleTokenList{kStyleTokens, kStyleTokens, {.lo = -1, .hi = 1023}};

// prompts = [{text = "warm jazz piano", weight = 1.0}, ...]: 1..8 prompts, weight default 1.
std::vector<WeightedPrompt> read_prompts(const Checker& checker, const std::string& name, const toml::node& node) {
  const auto* items = node.as_array();
  constexpr const char* kShape = "must be 1..8 tables such as [{text = \"warm jazz piano\", weight = 1.0}]";
  if (items == nullptr || items->empty() || items->size() > 8) checker.fail(name, node, kShape);
  std::vector<WeightedPrompt> prompts;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string item_name = name + "[" + std::to_string(i) + "]";
    const auto* table = items->get(i)->as_table();
    if (table == nullptr) checker.fail(item_name, *items->get(i), kShape);
    WeightedPrompt prompt;
    bool has_text = false;
    for (const auto& [key, value] : *table) {
      const std::string key_name = item_name + "." + std::string(key.str());
      if (key == "text") {
        prompt.text = read<std::string>(checker, key_name, value, Text{.non_empty = true, .max_length = 1024});
        has_text = true;
      } else if (key == "weight") {
        prompt.weight = read<float>(checker, key_name, value, Range{.lo = 0, .hi = 1000});
      } else {
        checker.fail(key_name, value, "unknown key (text, weight)");
      }
    }
    if (!has_text) checker.fail(item_name, *table, "needs text");
    prompts.push_back(std::move(prompt));
  }
  return prompts;
}

Preset read_preset(const Checker& checker, const std::string& name, const toml::node& node) {
  const auto* table = node.as_table();
  if (table == nullptr) checker.fail(name, node, "must be a table such as {name = \"calm\", temperature = 0.8}");
  Preset p;
  bool has_name = false;
  for (const auto& [key, value] : *table) {
    const std::string key_name = name + "." + std::string(key.str());
    if (key == "name") {
      p.name = read<std::string>(checker, key_name, value, Text{.non_empty = true, .max_length = 256});
      has_name = true;
    } else if (key == "program") {
      p.program = read<int>(checker, key_name, value, Range{.lo = 0, .hi = 127});
    } else if (key == "style_tokens") {
      p.style_tokens = read<std::array<int, kStyleTokens>>(checker, key_name, value, kStyleTokenList);
    } else if (key == "temperature") {
      p.temperature = read<float>(checker, key_name, value, kTemperature);
    } else if (key == "top_k") {
      p.top_k = read<int>(checker, key_name, value, kTopK);
    } else if (key == "cfg_style") {
      p.cfg_style = read<float>(checker, key_name, value, kCfg);
    } else if (key == "cfg_notes") {
      p.cfg_notes = read<float>(checker, key_name, value, kCfg);
    } else if (key == "cfg_drums") {
      p.cfg_drums = read<float>(checker, key_name, value, kCfg);
    } else if (key == "drums") {
      p.drums = read<int>(checker, key_name, value, kDrums);
    } else if (key == "onset_mode") {
      p.onset_mode = read<int>(checker, key_name, value, kOnsetMode);
    } else if (key == "prompts") {
      p.prompts = read_prompts(checker, key_name, value);
    } else {
      checker.fail(key_name, value, "unknown key");
    }
  }
  if (!has_name) checker.fail(name, node, "needs name");
  if (p.style_tokens && p.prompts) checker.fail(name + ".prompts", node, "style_tokens and prompts both set the style: keep one");
  return p;
}

std::vector<Preset> read_presets(const Checker& checker, const toml::node& node) {
  const auto* items = node.as_array();
  if (items == nullptr) checker.fail("presets", node, "must be an array of tables ([[presets]])");
  std::vector<Preset> presets;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string item_name = "presets[" + std::to_string(i) + "]";
    const toml::node& item = *items->get(i);
    Preset p = read_preset(checker, item_name, item);
    for (std::size_t j = 0; j < presets.size(); ++j) {
      const std::string earlier = "presets[" + std::to_string(j) + "]";
      if (presets[j].name == p.name) {
        checker.fail(item_name + ".name", *item.as_table()->get("name"),
                     "duplicate name " + show(p.name) + " (also " + earlier + ")");
      }
      if (p.program && presets[j].program == p.program) {
        checker.fail(item_name + ".program", *item.as_table()->get("program"),
                     "duplicate program " + std::to_string(*p.program) + " (also " + earlier + ")");
      }
    }
    presets.push_back(std::move(p));
  }
  return presets;
}

// One line: "[{name = "calm", program = 0, temperature = 0.8}, ...]".
std::string show(const std::vector<Preset>& presets) {
  std::string text = "[";
  for (const Preset& p : presets) {
    text += (text.size() > 1 ? ", " : "") + std::string("{name = ") + show(p.name);
    const auto add = [&](const char* key, const auto& value) {
      if (value) text += std::string(", ") + key + " = " + show(*value);
    };
    add("program", p.program);
    add("style_tokens", p.style_tokens);
    add("temperature", p.temperature);
    add("top_k", p.top_k);
    add("cfg_style", p.cfg_style);
    add("cfg_notes", p.cfg_notes);
    add("cfg_drums", p.cfg_drums);
    add("drums", p.drums);
    add("onset_mode", p.onset_mode);
    if (p.prompts) {
      text += ", prompts = [";
      for (std::size_t i = 0; i < p.prompts->size(); ++i) {
        text += (i ? ", " : "") + std::string("{text = ") + show((*p.prompts)[i].text) + ", weight = " + show((*p.prompts)[i].weight) + "}";
      }
      text += "]";
    }
    text += "}";
  }
  return text + "]";
}

struct Field {
  std::string_view section;
  std::string_view key;
  std::function<void(const Checker&, const std::string&, const toml::node&, Config&)> read;
  std::function<std::string(const Config&)> show;
};

// get is a generic lambda returning a reference to the key's member in a Config.
template <typename Get, typename Rule>
Field field(std::string_view section, std::string_view key, Get get, Rule rule) {
  return {section, key,
          [get, rule](const Checker& checker, const std::string& name, const toml::node& node, Config& config) {
            using T = std::remove_cvref_t<decltype(get(config))>;
            get(config) = read<T>(checker, name, node, rule);
          },
          [get](const Config& config) { return show(get(config)); }};
}

// JACK counts the terminating NUL in jack_client_name_size() (64), so 63 characters fit.
constexpr std::size_t kMaxClientName = 63;

const std::vector<Field>& fields() {
  static const std::vector<Field> all{
      field("jack", "client_name", [](auto& c) -> auto& { return c.jack.client_name; },
            Text{.non_empty = true, .max_length = kMaxClientName}),
      field("jack", "server_name", [](auto& c) -> auto& { return c.jack.server_name; }, Text{}),
      field("jack", "output_ports", [](auto& c) -> auto& { return c.jack.output_ports; },
            List<Text>{2, 2, {.non_empty = true}}),
      field("jack", "input_ports", [](auto& c) -> auto& { return c.jack.input_ports; },
            List<Text>{2, 2, {.non_empty = true}}),
      field("jack", "midi_port", [](auto& c) -> auto& { return c.jack.midi_port; }, Text{}),
      field("jack", "auto_connect", [](auto& c) -> auto& { return c.jack.auto_connect; }, Flag{}),
      field("jack", "connect_outputs", [](auto& c) -> auto& { return c.jack.connect_outputs; },
            List<Text>{0, 2, {.non_empty = true}}),
      field("jack", "reconnect_interval_ms", [](auto& c) -> auto& { return c.jack.reconnect_interval_ms; },
            Range{.lo = 50, .hi = 10000}),
      field("engine", "lookahead_ms", [](auto& c) -> auto& { return c.engine.lookahead_ms; },
            Range{.lo = 20, .hi = 5000}),
      field("engine", "fade_ms", [](auto& c) -> auto& { return c.engine.fade_ms; }, Range{.lo = 0, .hi = 1000}),
      field("engine", "gain_ramp_ms", [](auto& c) -> auto& { return c.engine.gain_ramp_ms; },
            Range{.lo = 0, .hi = 5000}),
      field("engine", "volume_db", [](auto& c) -> auto& { return c.engine.volume_db; },
            Range{.lo = -120, .hi = 24}),
      field("engine", "resampler", [](auto& c) -> auto& { return c.engine.resampler; }, kResamplers),
      field("model", "spec", [](auto& c) -> auto& { return c.model.spec; }, Text{.non_empty = true}),
      field("model", "dir", [](auto& c) -> auto& { return c.model.dir; }, Text{}),
      field("model", "seed", [](auto& c) -> auto& { return c.model.seed; }, Range{.lo = 0}),
      field("model", "prefill_frames", [](auto& c) -> auto& { return c.model.prefill_frames; },
            Range{.lo = 0, .hi = 5000}),
      field("model", "backend", [](auto& c) -> auto& { return c.model.backend; }, kModelBackends),
      field("control", "style_tokens", [](auto& c) -> auto& { return c.control.style_tokens; },
            kStyleTokenList),
      field("control", "drums", [](auto& c) -> auto& { return c.control.drums; }, kDrums),
      field("control", "cfg_style", [](auto& c) -> auto& { return c.control.cfg_style; }, kCfg),
      field("control", "cfg_notes", [](auto& c) -> auto& { return c.control.cfg_notes; }, kCfg),
      field("control", "cfg_drums", [](auto& c) -> auto& { return c.control.cfg_drums; }, kCfg),
      field("control", "temperature", [](auto& c) -> auto& { return c.control.temperature; },
            kTemperature),
      field("control", "top_k", [](auto& c) -> auto& { return c.control.top_k; }, kTopK),
      field("control", "seed", [](auto& c) -> auto& { return c.control.seed; }, Range{.lo = 0}),
      field("control", "onset_mode", [](auto& c) -> auto& { return c.control.onset_mode; }, kOnsetMode),
      field("render", "sample_rate", [](auto& c) -> auto& { return c.render.sample_rate; },
            Range{.lo = 8000, .hi = 192000, .also = 0}),
      field("midi", "channel", [](auto& c) -> auto& { return c.midi.channel; }, Range{.lo = 0, .hi = 16}),
      field("midi", "takeover", [](auto& c) -> auto& { return c.midi.takeover; }, kTakeovers),
      field("midi", "cc_map", [](auto& c) -> auto& { return c.midi.cc_map; }, CcMapRule{}),
      field("midi", "learn_file", [](auto& c) -> auto& { return c.midi.learn_file; }, Text{}),
      field("midi", "backend", [](auto& c) -> auto& { return c.midi.backend; }, kMidiBackends),
      field("midi", "alsa_port", [](auto& c) -> auto& { return c.midi.alsa_port; }, Text{.max_length = 256}),
      field("osc", "enabled", [](auto& c) -> auto& { return c.osc.enabled; }, Flag{}),
      field("osc", "bind", [](auto& c) -> auto& { return c.osc.bind; }, Text{.non_empty = true}),
      field("osc", "port", [](auto& c) -> auto& { return c.osc.port; }, Range{.lo = 1, .hi = 65535}),
      field("osc", "allow", [](auto& c) -> auto& { return c.osc.allow; },
            List<Text>{0, 64, {.non_empty = true, .max_length = 64}}),
      // 65507: the largest UDP payload over IPv4.
      field("osc", "max_message_bytes", [](auto& c) -> auto& { return c.osc.max_message_bytes; },
            Range{.lo = 64, .hi = 65507}),
      field("osc", "udp", [](auto& c) -> auto& { return c.osc.udp; }, Flag{}),
      field("osc", "tcp", [](auto& c) -> auto& { return c.osc.tcp; }, Flag{}),
      field("osc", "tcp_port", [](auto& c) -> auto& { return c.osc.tcp_port; }, Range{.lo = 1, .hi = 65535, .also = 0}),
      field("osc", "tcp_max_clients", [](auto& c) -> auto& { return c.osc.tcp_max_clients; },
            Range{.lo = 1, .hi = 256}),
      field("osc", "secret", [](auto& c) -> auto& { return c.osc.secret; }, Text{.max_length = 256}),
      field("osc", "rate_limit", [](auto& c) -> auto& { return c.osc.rate_limit; }, Range{.lo = 0, .hi = 10000000}),
      field("osc", "rate_burst", [](auto& c) -> auto& { return c.osc.rate_burst; }, Range{.lo = 1, .hi = 10000000}),
      field("record", "dir", [](auto& c) -> auto& { return c.record.dir; }, Text{.max_length = 4096}),
      field("record", "format", [](auto& c) -> auto& { return c.record.format; }, kAudioFormats),
      field("record", "on_start", [](auto& c) -> auto& { return c.record.on_start; }, Flag{}),
      field("record", "sync_ms", [](auto& c) -> auto& { return c.record.sync_ms; }, Range{.lo = 100, .hi = 60000}),
      field("record", "buffer_seconds", [](auto& c) -> auto& { return c.record.buffer_seconds; },
            Range{.lo = 1, .hi = 600}),
      field("link", "enabled", [](auto& c) -> auto& { return c.link.enabled; }, Flag{}),
      field("link", "quantum", [](auto& c) -> auto& { return c.link.quantum; }, Range{.lo = 1, .hi = 16}),
      field("link", "tempo", [](auto& c) -> auto& { return c.link.tempo; }, Range{.lo = 20, .hi = 999}),
      field("input", "capture_seconds", [](auto& c) -> auto& { return c.input.capture_seconds; },
            Range{.lo = 0, .hi = 600}),
      field("prompts", "dir", [](auto& c) -> auto& { return c.prompts.dir; }, Text{.max_length = 4096}),
      field("log", "level", [](auto& c) -> auto& { return c.log_level; }, kLogLevels),
  };
  return all;
}

const Field* find_field(std::string_view section, std::string_view key) {
  for (const Field& f : fields()) {
    if (f.section == section && f.key == key) return &f;
  }
  return nullptr;
}

bool is_section(std::string_view section) {
  return std::any_of(fields().begin(), fields().end(), [&](const Field& f) { return f.section == section; });
}

// ---- Loading --------------------------------------------------------------------------

std::string read_text(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw ConfigError(path + ": cannot read config: " + std::strerror(errno));
  std::string text;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, got);
  // A directory opens but fails to read (EISDIR).
  if (std::ferror(file.get())) throw ConfigError(path + ": cannot read config: " + std::strerror(errno));
  return text;
}

toml::table parse_text(const std::string& text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    const auto& at = error.source().begin;
    throw ConfigError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                      std::string(error.description()));
  }
}

// The value of "--set key=value": TOML when it parses as one value, else the bare text.
toml::node_view<toml::node> parse_override_value(const std::string& value, toml::table& holder) {
  try {
    holder = toml::parse("v = " + value);
    if (holder.size() == 1 && holder.contains("v")) return holder["v"];
  } catch (const toml::parse_error&) {
  }
  holder = toml::table{{"v", value}};
  return holder["v"];
}

void apply_override(const std::string& flag, toml::table& root, Checker& checker) {
  const auto equals = flag.find('=');
  const std::string name = flag.substr(0, equals);
  const auto dot = name.find('.');
  if (equals == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == name.size()) {
    throw ConfigError("--set " + flag + ": expected section.key=value");
  }
  const std::string section = name.substr(0, dot);
  if (!root.contains(section)) {
    root.insert(section, toml::table{});
    checker.flags[section] = flag;
  }
  auto* table = root.get(section)->as_table();
  if (table == nullptr) checker.fail(section, *root.get(section), "must be a table");
  toml::table holder;
  table->insert_or_assign(name.substr(dot + 1), *parse_override_value(flag.substr(equals + 1), holder).node());
  checker.flags[name] = flag;
}

void read_section(const Checker& checker, const std::string& section, const toml::node& node, Config& config) {
  if (!is_section(section)) checker.fail(section, node, "unknown section");
  const auto* table = node.as_table();
  if (table == nullptr) checker.fail(section, node, "must be a table");
  for (const auto& [key, value] : *table) {
    const std::string name = section + "." + std::string(key.str());
    const Field* found = find_field(section, key.str());
    if (found == nullptr) checker.fail(name, value, "unknown key");
    found->read(checker, name, value, config);
  }
}

void read_root(const Checker& checker, const toml::table& root, Config& config) {
  for (const auto& [section, node] : root) {
    if (section == "presets") {
      config.presets = read_presets(checker, node);
    } else {
      read_section(checker, std::string(section.str()), node, config);
    }
  }
}

}  // namespace

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Checker checker{path, {}};
  toml::table root = path.empty() ? toml::table{} : parse_text(read_text(path), path);
  for (const std::string& flag : overrides) apply_override(flag, root, checker);
  Config config;
  config.path = path.empty() ? "(built-in defaults)" : path;
  read_root(checker, root, config);
  return config;
}

void load_config_layer(Config& config, const std::string& path) {
  read_root(Checker{path, {}}, parse_text(read_text(path), path), config);
}

std::string config_toml(const Config& config, const std::vector<std::string>& keys) {
  std::string text;
  std::string_view section;
  for (const std::string& name : keys) {
    const auto dot = name.find('.');
    const Field* found = dot == std::string::npos ? nullptr : find_field(name.substr(0, dot), name.substr(dot + 1));
    if (found == nullptr) throw std::logic_error("config_toml: no key " + name);
    if (found->section != section) {
      section = found->section;
      text += (text.empty() ? "[" : "\n[") + std::string(section) + "]\n";
    }
    text += std::string(found->key) + " = " + found->show(config) + "\n";
  }
  return text;
}

std::string describe_config(const Config& config) {
  std::string text;
  for (const Field& f : fields()) {
    // The secret never reaches a log.
    const bool hidden = f.section == "osc" && f.key == "secret" && !config.osc.secret.empty();
    text += std::string(f.section) + "." + std::string(f.key) + " = " + (hidden ? "\"(set, not shown)\"" : f.show(config)) + "\n";
  }
  return text + "presets = " + show(config.presets) + "\n";
}

std::vector<std::string> changed_keys(const Config& a, const Config& b) {
  std::vector<std::string> changed;
  for (const Field& f : fields()) {
    if (f.show(a) != f.show(b)) changed.push_back(std::string(f.section) + "." + std::string(f.key));
  }
  if (a.presets != b.presets) changed.push_back("presets");
  return changed;
}

}  // namespace continuo
