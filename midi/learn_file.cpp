#include "midi/learn_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/atomic_file.hpp"

namespace continuo {

std::optional<MidiParam> midi_param_named(std::string_view name) {
  for (const MidiParamInfo& info : kMidiParams) {
    if (name == info.name) return info.param;
  }
  return std::nullopt;
}

std::vector<MidiCcMapping> read_learn_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return {};
    throw LearnFileError(path + ": cannot read MIDI learn file: " + std::strerror(errno));
  }
  std::vector<MidiCcMapping> mappings;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto fail = [&](const std::string& problem) {
      throw LearnFileError(path + ":" + std::to_string(number) + ": " + problem);
    };
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string cc_text, name, min_text, max_text, extra;
    if (!(words >> cc_text)) continue;  // blank or comment
    if (!(words >> name >> min_text >> max_text) || (words >> extra)) {
      fail("expected \"<cc> <param> <min> <max>\", got \"" + line + "\"");
    }
    MidiCcMapping m;
    std::size_t used = 0;
    try {
      m.cc = std::stoi(cc_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != cc_text.size() || m.cc < 0 || m.cc > 127) fail("cc must be 0..127, got \"" + cc_text + "\"");
    const std::optional<MidiParam> param = midi_param_named(name);
    if (!param) fail("unknown parameter \"" + name + "\"");
    m.param = *param;
    const MidiParamInfo& info = midi_param_info(m.param);
    const auto number_in_range = [&](const std::string& text, const char* what) {
      double value = NAN;
      std::size_t end = 0;
      try {
        value = std::stod(text, &end);
      } catch (const std::exception&) {
        end = 0;
      }
      if (end != text.size() || !(value >= info.lo && value <= info.hi)) {
        std::ostringstream why;
        why << what << " for " << info.name << " must be between " << info.lo << " and " << info.hi << ", got \""
            << text << "\"";
        fail(why.str());
      }
      return value;
    };
    m.min = number_in_range(min_text, "min");
    m.max = number_in_range(max_text, "max");
    m.bits = 7;
    if (std::any_of(mappings.begin(), mappings.end(), [&](const MidiCcMapping& o) { return o.cc == m.cc; })) {
      fail("CC " + std::to_string(m.cc) + " is already mapped");
    }
    mappings.push_back(m);
  }
  if (in.bad()) throw LearnFileError(path + ": cannot read MIDI learn file: " + std::strerror(errno));
  return mappings;
}

void write_learn_file(const std::string& path, const std::vector<MidiCcMapping>& mappings) {
  std::string text = "# continuo MIDI learn (midi.learn_file): <cc> <param> <min> <max>, on top of midi.cc_map\n";
  char line[128];
  for (const MidiCcMapping& m : mappings) {
    std::snprintf(line, sizeof line, "%d %s %.17g %.17g\n", m.cc, midi_param_info(m.param).name, m.min, m.max);
    text += line;
  }
  try {
    write_file_atomically(path, text);
  } catch (const std::runtime_error& error) {
    throw LearnFileError(std::string(error.what()) + " (MIDI learn file)");
  }
}

std::vector<MidiCcMapping> with_learned(std::vector<MidiCcMapping> base, const std::vector<MidiCcMapping>& learned) {
  for (const MidiCcMapping& m : learned) {
    std::erase_if(base, [&](const MidiCcMapping& o) { return o.cc == m.cc || (o.bits == 14 && o.cc + 32 == m.cc); });
    base.push_back(m);
  }
  return base;
}

}  // namespace continuo
