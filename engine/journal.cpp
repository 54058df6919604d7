#include "engine/journal.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

namespace continuo {
namespace {

constexpr std::string_view kMagic = "continuo journal 1";

template <typename T>
std::string shortest(T value) {
  char text[64];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// ---- Controls ---------------------------------------------------------------------------

// A scalar control the model reads, with the range Controls accepts (a journal is input
// from disk: nothing out of range reaches the model).
template <typename T>
struct Scalar {
  std::string_view name;
  T ControlSnapshot::*member;
  double lo;
  double hi;
  bool lo_open = false;
};

constexpr std::array kFloats{
    Scalar<float>{"temperature", &ControlSnapshot::temperature, 0, 10, true},
    Scalar<float>{"cfg_style", &ControlSnapshot::cfg_style, -1, 7},
    Scalar<float>{"cfg_notes", &ControlSnapshot::cfg_notes, -1, 7},
    Scalar<float>{"cfg_drums", &ControlSnapshot::cfg_drums, -1, 7},
};
constexpr std::array kInts{
    Scalar<int>{"top_k", &ControlSnapshot::top_k, 1, 1024},
    Scalar<int>{"drums", &ControlSnapshot::drums, -1, 1},
    Scalar<int>{"onset_mode", &ControlSnapshot::onset_mode, 0, 1},
};
constexpr Scalar<std::uint64_t> kSeed{"seed", &ControlSnapshot::seed, 0, 1.8446744073709552e19};

std::string tokens_text(const std::array<int, kStyleTokens>& tokens) {
  std::string text;
  for (const int token : tokens) text += (text.empty() ? "" : ",") + std::to_string(token);
  return text;
}

std::string notes_text(const ControlSnapshot& before, const ControlSnapshot& after) {
  std::string text;
  for (std::size_t p = 0; p < kPitches; ++p) {
    if (before.notes[p] == after.notes[p]) continue;
    text += (text.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(static_cast<int>(after.notes[p]));
  }
  return text;
}

template <typename T>
void parse_scalar(const Scalar<T>& field, std::string_view value, ControlSnapshot& snapshot) {
  const auto number = parse_number<T>(value);
  const bool in_range = number && (field.lo_open ? *number > field.lo : *number >= field.lo) && *number <= field.hi;
  if (!in_range) {
    throw JournalError(std::string(field.name) + ": expected a number in the control's range, got '" +
                       std::string(value) + "'");
  }
  snapshot.*field.member = *number;
}

// Splits "a,b,c" and hands each item to take.
void for_each_item(std::string_view list, const std::function<void(std::string_view)>& take) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    take(list.substr(start, comma - start));
    start = comma + 1;
  }
}

void parse_tokens(std::string_view value, ControlSnapshot& snapshot) {
  std::size_t count = 0;
  for_each_item(value, [&](std::string_view item) {
    const auto token = parse_number<int>(item);
    if (count >= kStyleTokens || !token || *token < -1 || *token > 1023) {
      throw JournalError("style_tokens: expected 12 integers -1..1023, got '" + std::string(value) + "'");
    }
    snapshot.style_tokens[count++] = *token;
  });
  if (count != kStyleTokens) throw JournalError("style_tokens: expected 12 integers, got " + std::to_string(count));
}

void parse_notes(std::string_view value, ControlSnapshot& snapshot) {
  for_each_item(value, [&](std::string_view item) {
    const std::size_t colon = item.find(':');
    const auto pitch = parse_number<int>(item.substr(0, colon));
    const auto state = colon == std::string_view::npos ? std::nullopt : parse_number<int>(item.substr(colon + 1));
    if (!pitch || *pitch < 0 || *pitch >= kPitches || !state || *state < -1 || *state > 3) {
      throw JournalError("notes: expected pitch:state items (pitch 0..127, state -1..3), got '" + std::string(item) + "'");
    }
    snapshot.notes[static_cast<std::size_t>(*pitch)] = static_cast<NoteState>(*state);
  });
}

bool apply_scalar(std::string_view name, std::string_view value, ControlSnapshot& snapshot) {
  for (const auto& field : kFloats) {
    if (field.name == name) return parse_scalar(field, value, snapshot), true;
  }
  for (const auto& field : kInts) {
    if (field.name == name) return parse_scalar(field, value, snapshot), true;
  }
  if (kSeed.name == name) return parse_scalar(kSeed, value, snapshot), true;
  return false;
}

// ---- Lines ------------------------------------------------------------------------------

constexpr std::array<std::pair<std::string_view, JournalKind>, 11> kKinds{{
    {"reset", JournalKind::reset},
    {"context", JournalKind::context},
    {"rate", JournalKind::rate},
    {"set", JournalKind::set},
    {"fail", JournalKind::fail},
    {"silence", JournalKind::silence},
    {"take", JournalKind::take},
    {"sync", JournalKind::sync},
    {"drop", JournalKind::drop},
    {"lost", JournalKind::lost},
    {"end", JournalKind::end},
}};

std::string_view kind_name(JournalKind kind) {
  for (const auto& [name, k] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

constexpr std::array<std::pair<std::string_view, ResamplerQuality>, 3> kResamplers{{
    {"best", ResamplerQuality::best}, {"medium", ResamplerQuality::medium}, {"fastest", ResamplerQuality::fastest}}};

// Reads one line of a journal; fail() throws with the file and line.
class LineReader {
 public:
  LineReader(const std::string& name, std::size_t line) : name_(name), line_(line) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw JournalError(name_ + ":" + std::to_string(line_) + ": " + problem);
  }

  template <typename T>
  T number(std::string_view text, std::string_view what) const {
    const auto value = parse_number<T>(text);
    if (!value) fail(std::string(what) + ": expected a whole number >= 0, got '" + std::string(text) + "'");
    return *value;
  }

  JournalEvent event(std::string_view line) const {
    const std::size_t space = line.find(' ');
    JournalEvent event;
    event.frame = number<std::uint64_t>(line.substr(0, space), "frame");
    const std::string_view rest = space == std::string_view::npos ? "" : line.substr(space + 1);
    const std::size_t end = rest.find(' ');
    const std::string_view kind = rest.substr(0, end);
    const std::string_view argument = end == std::string_view::npos ? "" : rest.substr(end + 1);
    const auto found = std::find_if(kKinds.begin(), kKinds.end(), [&](const auto& k) { return k.first == kind; });
    if (found == kKinds.end()) fail("unknown event '" + std::string(kind) + "'");
    event.kind = found->second;
    if (event.kind == JournalKind::set) {
      ControlSnapshot check;
      try {
        apply_control_changes(argument, check);
      } catch (const JournalError& error) {
        fail(error.what());
      }
      event.text = std::string(argument);
    } else if (event.kind == JournalKind::take || event.kind == JournalKind::fail) {
      if (!argument.empty()) fail(std::string(kind) + " takes no value");
    } else if (event.kind == JournalKind::context) {
      const std::size_t gap = argument.find(' ');
      event.value = number<std::uint64_t>(argument.substr(0, gap), "context seed");
      event.text = std::string(gap == std::string_view::npos ? "" : argument.substr(gap + 1));
      try {
        context_codes(event.text);
      } catch (const JournalError& error) {
        fail(error.what());
      }
    } else {
      event.value = number<std::uint64_t>(argument, kind);
      // One frame's silence at the output rate: a bound keeps a damaged line from asking
      // replay for gigabytes of it.
      if (event.kind == JournalKind::silence && (event.value == 0 || event.value > kMaxSilence)) {
        fail("silence: expected 1.." + std::to_string(kMaxSilence) + " samples, got " + std::to_string(event.value));
      }
    }
    return event;
  }

  void header_field(std::string_view line, JournalHeader& header, std::vector<std::string>& seen) const {
    const std::size_t space = line.find(' ');
    const std::string key(line.substr(0, space));
    const std::string value(space == std::string_view::npos ? "" : line.substr(space + 1));
    seen.push_back(key);
    if (key == "model.spec") header.model_spec = value;
    else if (key == "model.identity") header.model_identity = value;
    else if (key == "model.backend") header.backend = value;
    else if (key == "model.prefill_frames") header.prefill_frames = number<int>(value, key);
    else if (key == "model.rate") header.model_rate = number<int>(value, key);
    else if (key == "model.frame_samples") header.frame_samples = number<int>(value, key);
    else if (key == "output.rate") header.output_rate = number<int>(value, key);
    else if (key == "output.resampler") header.resampler = resampler(value);
    else if (key == "audio.file") header.audio_file = value;
    else if (key == "started") header.started = value;
    else fail("unknown header key '" + key + "'");
  }

 private:
  static constexpr std::uint64_t kMaxSilence = 1u << 20;

  ResamplerQuality resampler(std::string_view value) const {
    for (const auto& [name, quality] : kResamplers) {
      if (name == value) return quality;
    }
    fail("output.resampler: expected best, medium or fastest, got '" + std::string(value) + "'");
  }

  const std::string& name_;
  std::size_t line_;
};

constexpr std::array<std::string_view, 8> kRequiredKeys{"model.spec",  "model.identity",      "model.backend",
                                                        "model.rate",  "model.frame_samples", "output.rate",
                                                        "audio.file",  "output.resampler"};

bool starts_with_digit(std::string_view line) { return !line.empty() && line[0] >= '0' && line[0] <= '9'; }

}  // namespace

std::string journal_header_text(const JournalHeader& h) {
  const auto resampler = std::find_if(kResamplers.begin(), kResamplers.end(),
                                      [&](const auto& r) { return r.second == h.resampler; });
  std::string text = std::string(kMagic) + "\n";
  const auto add = [&](std::string_view key, const std::string& value) {
    std::string clean = value;  // a value is the rest of its line
    std::replace(clean.begin(), clean.end(), '\n', ' ');
    text += std::string(key) + " " + clean + "\n";
  };
  add("model.spec", h.model_spec);
  add("model.identity", h.model_identity);
  add("model.backend", h.backend);
  add("model.prefill_frames", std::to_string(h.prefill_frames));
  add("model.rate", std::to_string(h.model_rate));
  add("model.frame_samples", std::to_string(h.frame_samples));
  add("output.rate", std::to_string(h.output_rate));
  add("output.resampler", std::string(resampler->first));
  add("audio.file", h.audio_file);
  add("started", h.started);
  return text;
}

std::string journal_line(const JournalEvent& event) {
  std::string line = std::to_string(event.frame) + " " + std::string(kind_name(event.kind));
  if (event.kind == JournalKind::set) {
    line += " " + event.text;
  } else if (event.kind == JournalKind::context) {
    line += " " + std::to_string(event.value) + " " + event.text;
  } else if (event.kind != JournalKind::take && event.kind != JournalKind::fail) {
    line += " " + std::to_string(event.value);
  }
  return line + "\n";
}

Journal parse_journal(std::string_view text, const std::string& name) {
  Journal journal;
  std::vector<std::string> seen;
  std::size_t start = 0;
  for (std::size_t number = 1; start < text.size(); ++number) {
    const std::size_t newline = text.find('\n', start);
    const LineReader reader(name, number);
    if (newline == std::string_view::npos) {
      journal.cut_tail = "line " + std::to_string(number) + ": '" + std::string(text.substr(start, 60)) +
                         "' has no end of line (the writer was stopped mid-line)";
      break;
    }
    const std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    if (number == 1) {
      if (line != kMagic) reader.fail("not a continuo journal (the first line must be '" + std::string(kMagic) + "')");
    } else if (starts_with_digit(line)) {
      journal.events.push_back(reader.event(line));
    } else if (!journal.events.empty()) {
      reader.fail("expected '<frame> <event> ...', got '" + std::string(line.substr(0, 60)) + "'");
    } else {
      reader.header_field(line, journal.header, seen);
    }
  }
  if (seen.empty() && journal.events.empty() && text.substr(0, kMagic.size()) != kMagic) {
    throw JournalError(name + ":1: not a continuo journal (empty or cut before its first line ended)");
  }
  for (const std::string_view key : kRequiredKeys) {
    if (std::find(seen.begin(), seen.end(), key) == seen.end()) {
      throw JournalError(name + ": header lacks " + std::string(key));
    }
  }
  return journal;
}

Journal read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JournalError(path + ": cannot read the journal");
  std::stringstream text;
  text << in.rdbuf();
  return parse_journal(text.str(), path);
}

std::string control_changes(const ControlSnapshot& before, const ControlSnapshot& after) {
  std::string text;
  const auto add = [&](std::string_view name, const std::string& value) {
    text += (text.empty() ? "" : " ") + std::string(name) + "=" + value;
  };
  for (const auto& field : kFloats) {
    if (before.*field.member != after.*field.member) add(field.name, shortest(after.*field.member));
  }
  for (const auto& field : kInts) {
    if (before.*field.member != after.*field.member) add(field.name, shortest(after.*field.member));
  }
  if (before.seed != after.seed) add(kSeed.name, shortest(after.seed));
  if (before.style_tokens != after.style_tokens) add("style_tokens", tokens_text(after.style_tokens));
  if (before.notes != after.notes) add("notes", notes_text(before, after));
  return text;
}

void apply_control_changes(std::string_view changes, ControlSnapshot& snapshot) {
  std::size_t start = 0;
  while (start < changes.size()) {
    const std::size_t end = std::min(changes.find(' ', start), changes.size());
    const std::string_view word = changes.substr(start, end - start);
    start = end + 1;
    const std::size_t equals = word.find('=');
    if (equals == std::string_view::npos) throw JournalError("expected name=value, got '" + std::string(word) + "'");
    const std::string_view name = word.substr(0, equals);
    const std::string_view value = word.substr(equals + 1);
    if (name == "style_tokens") parse_tokens(value, snapshot);
    else if (name == "notes") parse_notes(value, snapshot);
    else if (!apply_scalar(name, value, snapshot)) throw JournalError("unknown control '" + std::string(name) + "'");
  }
}

std::string context_text(std::span<const int> codes) {
  std::string text;
  for (const int code : codes) text += (text.empty() ? "" : ",") + std::to_string(code);
  return text;
}

std::vector<int> context_codes(std::string_view text) {
  std::vector<int> codes;
  for_each_item(text, [&](std::string_view item) {
    const auto code = parse_number<int>(item);
    if (!code || *code < 0) throw JournalError("context code: expected a whole number >= 0, got '" + std::string(item) + "'");
    codes.push_back(*code);
  });
  return codes;
}

}  // namespace continuo
