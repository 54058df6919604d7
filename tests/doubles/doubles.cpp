#include "tests/doubles/doubles.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numbers>
#include <stdexcept>
#include <string>
#include <thread>

namespace continuo::doubles {
namespace {

struct Options {
  std::string name;
  int rate = 48000;
  int frame = 1920;
  int delay_ms = 0;
  int fail_after = -1;  // -1: never fails
  int fail_for = 0;     // 0: once failing, always
  std::string delay_file;
};

int parse_int(const std::string& key, const std::string& text) {
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 0) throw ModelError("double: option " + key + " needs a non-negative integer, got '" + text + "'");
  return value;
}

Options parse_options(std::string_view argument) {
  Options options;
  std::size_t start = 0;
  bool first = true;
  while (start <= argument.size()) {
    const std::size_t comma = std::min(argument.find(',', start), argument.size());
    const std::string item(argument.substr(start, comma - start));
    start = comma + 1;
    if (first) {
      options.name = item;
      first = false;
      continue;
    }
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "rate") options.rate = parse_int(key, value);
    else if (key == "frame") options.frame = parse_int(key, value);
    else if (key == "delay_ms") options.delay_ms = parse_int(key, value);
    else if (key == "fail_after") options.fail_after = parse_int(key, value);
    else if (key == "fail_for") options.fail_for = parse_int(key, value);
    else if (key == "delay_file") options.delay_file = value;
    else throw ModelError("double: unknown option '" + key + "' (known: rate, frame, delay_ms, delay_file, fail_after, fail_for)");
  }
  if (options.rate < 8000 || options.rate > 192000) throw ModelError("double: rate must be 8000..192000");
  if (options.frame < 1 || options.frame > 48000) throw ModelError("double: frame must be 1..48000");
  return options;
}

class DoubleBase : public Model {
 public:
  explicit DoubleBase(const Options& options)
      : delay_ms_(options.delay_ms),
        delay_file_(options.delay_file),
        fail_after_(options.fail_after),
        fail_for_(options.fail_for) {
    info_.name = "double:" + options.name;
    info_.sample_rate = options.rate;
    info_.frame_samples = options.frame;
  }
  const ModelInfo& info() const override { return info_; }

 protected:
  // What every step does before its audio: sleep delay_ms plus what delay_file says, and
  // from step fail_after on (counted since the model was made, resets included) throw as a
  // GPU backend does on a device error, fail_for steps long (0: for good).
  void simulate_step_faults() {
    const int ms = delay_ms_ + delay_from_file();
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    const std::uint64_t step = steps_++;
    if (fail_after_ < 0 || step < static_cast<std::uint64_t>(fail_after_)) return;
    if (fail_for_ == 0 || step < static_cast<std::uint64_t>(fail_after_) + static_cast<std::uint64_t>(fail_for_)) {
      throw std::runtime_error("double: simulated device error at step " + std::to_string(step) +
                               " (fail_after=" + std::to_string(fail_after_) + ")");
    }
  }
  ModelInfo info_;

 private:
  // Read at every step, so a test can slow the running model down and speed it up again;
  // a missing or unreadable file adds nothing.
  int delay_from_file() const {
    if (delay_file_.empty()) return 0;
    std::ifstream in(delay_file_);
    int ms = 0;
    return in >> ms && ms > 0 ? ms : 0;
  }
  int delay_ms_;
  std::string delay_file_;
  int fail_after_;
  int fail_for_;
  std::uint64_t steps_ = 0;
};

class CounterDouble final : public DoubleBase {
 public:
  using DoubleBase::DoubleBase;
  void reset(std::uint64_t) override { next_ = 0; }
  void step(const ControlSnapshot&, std::span<float> out) override {
    simulate_step_faults();
    for (int i = 0; i < info_.frame_samples; ++i, ++next_) {
      out[2 * i] = counter_sample(next_, 0);
      out[2 * i + 1] = counter_sample(next_, 1);
    }
  }

 private:
  std::uint64_t next_ = 0;
};

// Something pleasant for a listener checking the audio path: a I-V-vi-IV progression in
// C, two seconds a chord, unless the control state holds notes, which then sound instead.
class ChordsDouble final : public DoubleBase {
 public:
  using DoubleBase::DoubleBase;
  void reset(std::uint64_t) override {
    sample_ = 0;
    phases_.fill(0.0);
  }
  void step(const ControlSnapshot& control, std::span<float> out) override {
    simulate_step_faults();
    const std::array<bool, kPitches> held = pitches_to_play(control);
    for (int i = 0; i < info_.frame_samples; ++i, ++sample_) {
      double mix = 0.0;
      for (int p = 0; p < kPitches; ++p) {
        if (!held[p]) continue;
        phases_[p] = std::fmod(phases_[p] + frequency(p) / info_.sample_rate, 1.0);
        mix += std::sin(2.0 * std::numbers::pi * phases_[p]);
      }
      const auto value = static_cast<float>(0.08 * mix);
      out[2 * i] = value;
      out[2 * i + 1] = value;
    }
  }

 private:
  static double frequency(int pitch) { return 440.0 * std::pow(2.0, (pitch - 69) / 12.0); }

  std::array<bool, kPitches> pitches_to_play(const ControlSnapshot& control) const {
    std::array<bool, kPitches> held{};
    bool any = false;
    for (int p = 0; p < kPitches; ++p) {
      held[p] = control.notes[p] == NoteState::sustain || control.notes[p] == NoteState::onset;
      any = any || held[p];
    }
    if (any) return held;
    static constexpr std::array<std::array<int, 3>, 4> kProgression{{{60, 64, 67}, {55, 59, 62}, {57, 60, 64}, {53, 57, 60}}};
    const auto chord = (sample_ / (2 * static_cast<std::uint64_t>(info_.sample_rate))) % kProgression.size();
    for (int pitch : kProgression[chord]) held[pitch] = true;
    return held;
  }

  std::uint64_t sample_ = 0;
  std::array<double, kPitches> phases_{};
};

}  // namespace

void register_test_doubles(ModelRegistry& registry) {
  registry.add("double", "test doubles: double:counter or double:chords, options ,rate=HZ,frame=N,delay_ms=MS,delay_file=PATH,fail_after=STEPS,fail_for=STEPS",
               [](std::string_view argument, const ModelOptions&) -> std::unique_ptr<Model> {
                 const Options options = parse_options(argument);
                 if (options.name == "counter") return std::make_unique<CounterDouble>(options);
                 if (options.name == "chords") return std::make_unique<ChordsDouble>(options);
                 throw ModelError("double: unknown double '" + options.name + "' (known: counter, chords)");
               });
}

}  // namespace continuo::doubles
