#include "engine/control_script.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "osc/address_map.hpp"

namespace continuo {
namespace {

constexpr double kMaxSeconds = 86400.0;  // render's own limit

struct Word {
  std::string text;
  bool quoted = false;  // a "quoted string" is a string even when it reads as a number
};

// The text of the quoted string whose opening quote is at line[open]; \" \\ and \n stand for
// a quote, a backslash and a newline (quote_control_word writes them). Sets after to just
// past the closing quote.
std::string unquote(std::string_view line, std::size_t open, std::size_t& after, const std::string& where) {
  std::string text;
  for (std::size_t i = open + 1; i < line.size(); ++i) {
    if (line[i] == '"') {
      after = i + 1;
      return text;
    }
    if (line[i] != '\\') {
      text += line[i];
      continue;
    }
    const char escaped = i + 1 < line.size() ? line[++i] : '\0';
    if (escaped != '"' && escaped != '\\' && escaped != 'n') {
      throw ControlScriptError(where + ": in a \"string\", a backslash must be followed by \", \\ or n");
    }
    text += escaped == 'n' ? '\n' : escaped;
  }
  throw ControlScriptError(where + ": unterminated \"string\"");
}

// Splits a line into words; a "quoted string" is one word, and '#' outside quotes ends the line.
std::vector<Word> split_words(std::string_view line, const std::string& where) {
  std::vector<Word> words;
  std::size_t i = 0;
  while (i < line.size()) {
    if (std::isspace(static_cast<unsigned char>(line[i]))) {
      ++i;
    } else if (line[i] == '#') {
      break;
    } else if (line[i] == '"') {
      words.push_back({unquote(line, i, i, where), true});
    } else {
      std::size_t end = i;
      while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
      words.push_back({std::string(line.substr(i, end - i)), false});
      i = end;
    }
  }
  return words;
}

template <typename T>
bool parse_whole(const std::string& text, T& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size();
}

// Integers travel as OSC 'i' (or 'h' beyond 32 bits), decimals as 'd', anything else as
// a string; the address map then checks them exactly as it checks a live message.
osc::Arg to_arg(const Word& word_read) {
  const std::string& word = word_read.text;
  if (word_read.quoted) return osc::Arg::string(word);
  std::int64_t integer = 0;
  if (parse_whole(word, integer)) {
    if (integer >= std::numeric_limits<std::int32_t>::min() && integer <= std::numeric_limits<std::int32_t>::max()) {
      return osc::Arg::int32(static_cast<std::int32_t>(integer));
    }
    return osc::Arg::int64(integer);
  }
  double real = 0.0;
  if (parse_whole(word, real)) return {'d', real, 0, {}};
  return osc::Arg::string(word);
}

double parse_time(const std::string& word, const std::string& where) {
  double seconds = 0.0;
  if (!parse_whole(word, seconds) || !std::isfinite(seconds) || seconds < 0.0 || seconds > kMaxSeconds) {
    throw ControlScriptError(where + ": expected a time in seconds (0..86400) first, got '" + word + "'");
  }
  return seconds;
}

std::optional<ControlCommand> parse_line(std::string_view line, int number, const std::string& name) {
  const std::string where = name + ":" + std::to_string(number);
  const std::vector<Word> words = split_words(line, where);
  if (words.empty()) return std::nullopt;
  if (words.size() < 2 || words[1].quoted || words[1].text.empty() || words[1].text[0] != '/') {
    throw ControlScriptError(where + ": expected '<seconds> /continuo/<address> [args...]'");
  }
  ControlCommand command{parse_time(words[0].text, where), number, {words[1].text, {}}};
  for (std::size_t i = 2; i < words.size(); ++i) command.message.args.push_back(to_arg(words[i]));
  return command;
}

// The dry run's stand-in for a text tower: the script is checked before the model loads,
// so a prompt line is checked for its arguments only; its style comes at render time.
class AnyStyleEncoder final : public StyleEncoder {
 public:
  std::array<int, kStyleTokens> tokens(std::span<const WeightedPrompt>) const override {
    std::array<int, kStyleTokens> masked;
    masked.fill(-1);
    return masked;
  }
};

// Runs every command, in time order, on scratch controls: the script fails here, naming
// its line, rather than halfway through a render.
void dry_run(const std::vector<ControlCommand>& commands, const std::string& name) {
  ControlState scratch{ControlSnapshot{}};
  OfflineControls offline(scratch, 0.0f, std::make_shared<AnyStyleEncoder>());
  for (const ControlCommand& command : commands) {
    const std::string why = apply_control(command, offline.controls());
    if (!why.empty()) {
      throw ControlScriptError(name + ":" + std::to_string(command.line) + ": " + command.message.address + ": " + why);
    }
  }
}

PlaybackConfig playback_with_volume(float volume_db) {
  PlaybackConfig config;
  config.volume_db = volume_db;
  return config;
}

}  // namespace

OfflineControls::OfflineControls(ControlState& state, float volume_db, std::shared_ptr<const StyleEncoder> style_encoder)
    : playback_(ring_, playback_with_volume(volume_db)),
      controls_(state, playback_, [] { return StatusSnapshot{}; }, volume_db, {}, {}, std::move(style_encoder)) {}

std::vector<ControlCommand> parse_control_script(std::string_view text, const std::string& name) {
  std::vector<ControlCommand> commands;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (auto command = parse_line(text.substr(start, end - start), ++number, name)) commands.push_back(std::move(*command));
    start = end + 1;
  }
  // Ties keep file order (line numbers are unique). Not stable_sort: libstdc++ 12's
  // get_temporary_buffer is deprecated under clang 19 and -Werror.
  std::sort(commands.begin(), commands.end(), [](const ControlCommand& a, const ControlCommand& b) {
    return a.seconds != b.seconds ? a.seconds < b.seconds : a.line < b.line;
  });
  dry_run(commands, name);
  return commands;
}

std::string quote_control_word(std::string_view text) {
  std::string word = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') word += '\\';
    word += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return word + "\"";
}

std::vector<ControlCommand> read_control_script(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ControlScriptError(path + ": cannot open");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw ControlScriptError(path + ": read error");
  return parse_control_script(text.str(), path);
}

std::string apply_control(const ControlCommand& command, Controls& controls) {
  // /continuo/notify subscribes a sender to events; a script has no sender to answer.
  osc::CommandContext context{controls, [](bool) -> ControlResult { return "not available in a control script"; }, 0};
  const osc::Message reply = osc::dispatch(command.message, context);
  if (reply.address != "/fail") return {};  // /done, or a reply (status, help) nobody reads
  return reply.args.size() > 1 ? reply.args[1].text : "refused";
}

}  // namespace continuo
