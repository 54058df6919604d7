#include <sndfile.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>

#include "engine/app.hpp"
#include "engine/audio_file.hpp"
#include "engine/cli.hpp"
#include "engine/frame_source.hpp"
#include "engine/journal.hpp"
#include "engine/log.hpp"

namespace continuo {
namespace {

// Where a take's audio starts and how much of it there is.
struct TakeSpan {
  std::uint64_t first_frame = 0;
  std::uint64_t samples = 0;
  std::string length_from;  // for the log: what said how long the take is
};

const JournalEvent* find_event(const Journal& journal, JournalKind kind) {
  for (const JournalEvent& event : journal.events) {
    if (event.kind == kind) return &event;
  }
  return nullptr;
}

// Frames of the take's audio file, when it opens and its header knows (a killed FLAC does not).
std::optional<std::uint64_t> audio_file_frames(const std::filesystem::path& path) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (file == nullptr) return std::nullopt;
  sf_close(file);
  if (info.frames <= 0 || info.frames == SF_COUNT_MAX) return std::nullopt;
  return static_cast<std::uint64_t>(info.frames);
}

// A take ended by stop has an end line. One cut short (a killed engine) is as long as its
// audio file, whose every frame the journal covers (its lines are written first), or
// failing that as long as its last sync line says.
TakeSpan take_span(const Journal& journal, const std::string& journal_path) {
  const JournalEvent* take = find_event(journal, JournalKind::take);
  if (take == nullptr) throw std::runtime_error(journal_path + ": the take holds no audio (no take line)");
  TakeSpan span{take->frame, 0, ""};
  if (const JournalEvent* end = find_event(journal, JournalKind::end)) {
    span.samples = end->value;
    span.length_from = "its end line";
    return span;
  }
  const auto audio = std::filesystem::path(journal_path).parent_path() / journal.header.audio_file;
  if (const auto frames = audio_file_frames(audio)) {
    span.samples = *frames;
    span.length_from = "its audio file " + audio.string() + " (the take was not stopped)";
    return span;
  }
  for (const JournalEvent& event : journal.events) {
    if (event.kind == JournalKind::sync) span.samples = event.value;
  }
  span.length_from = "its last sync line (the take was not stopped)";
  if (span.samples == 0) throw std::runtime_error(journal_path + ": no audio in the take (no end or sync line)");
  return span;
}

// Refuses a journal that cannot give the same audio, and says when it may not.
void check_replayable(const Journal& journal, const ModelInfo& model, const std::string& path) {
  const JournalHeader& h = journal.header;
  const bool starts_fresh = !journal.events.empty() && (journal.events.front().kind == JournalKind::reset ||
                                                        journal.events.front().kind == JournalKind::context);
  if (!starts_fresh) {
    throw std::runtime_error(path + ": the journal does not start at a reset (the session ran too long since its "
                                    "last reset for the recorder to keep its history): it cannot be replayed");
  }
  const std::string identity = model.identity.empty() ? model.name : model.identity;
  if (identity != h.model_identity || model.sample_rate != h.model_rate || model.frame_samples != h.frame_samples) {
    throw std::runtime_error(path + ": recorded with model " + h.model_identity + " (" + std::to_string(h.model_rate) +
                             " Hz), but '" + h.model_spec + "' loads " + identity + " (" +
                             std::to_string(model.sample_rate) + " Hz)");
  }
  if (model.backend != h.backend) {
    log_warn("replay: recorded on the ", h.backend, " backend, replayed on ", model.backend,
             ": expect close, not bit-exact, audio");
  }
  if (const JournalEvent* lost = find_event(journal, JournalKind::lost)) {
    log_warn("replay: the recorder lost ", lost->value, " events before frame ", lost->frame,
             ": from there the replay differs from the take");
  }
  if (find_event(journal, JournalKind::drop) != nullptr) {
    log_warn("replay: the take has silent frames where its writer fell behind (drop lines); the replay has the music");
  }
  if (!journal.cut_tail.empty()) log_warn("replay: ", path, ": ", journal.cut_tail);
}

// model.backend auto replays a CPU take on the CPU, bit for bit, even where a device is
// present; a CUDA take on CUDA where it can run. An explicit backend is obeyed.
ModelBackend replay_backend(ModelBackend configured, const JournalHeader& h) {
  if (configured == ModelBackend::automatic && h.backend == "cpu") return ModelBackend::cpu;
  return configured;
}

// Plays a journal's events into a FrameSource in their order: resets, rate changes, the
// controls each frame was made with, and where the model failed, its failed steps and the
// silence played meanwhile. Each call makes the next piece of audio: a frame, or silence.
class JournalDriver {
 public:
  JournalDriver(const Journal& journal, FrameSource& source, ControlState& control)
      : events_(journal.events), source_(source), control_(control), frame_(events_.front().frame) {}

  std::span<const float> next_audio() {
    while (next_ < events_.size() && events_[next_].frame <= frame_) {
      const JournalEvent& event = events_[next_++];
      if (event.kind == JournalKind::silence) {
        silence_.assign(2 * event.value, 0.0f);
        return silence_;
      }
      apply(event);
    }
    ++frame_;
    return source_.next_frame();
  }
  std::uint64_t frame() const { return frame_; }
  // The take line has been passed: the audio made since belongs to the take.
  bool in_take() const { return in_take_; }

 private:
  void apply(const JournalEvent& event) {
    switch (event.kind) {
      case JournalKind::reset:
        source_.reset(event.value);
        from_defaults();
        break;
      case JournalKind::context:
        source_.reset_to_tokens(event.value, context_codes(event.text));
        from_defaults();
        break;
      case JournalKind::rate:
        source_.set_output_rate(static_cast<int>(event.value));
        break;
      case JournalKind::set:
        apply_control_changes(event.text, snapshot_);
        control_.update([this](ControlSnapshot& s) { s = snapshot_; });
        break;
      case JournalKind::fail:
        step_and_drop();
        break;
      case JournalKind::take:
        in_take_ = true;
        break;
      default:
        break;  // the take's own lines
    }
  }

  void from_defaults() {
    snapshot_ = ControlSnapshot{};  // a set line for this frame follows unless all are defaults
    control_.update([this](ControlSnapshot& s) { s = snapshot_; });
  }

  // The model's step failed here when the take was made. The model is stepped again, as a
  // model may count its steps (the failing test double does); whatever it makes is not
  // heard, since a reset comes before the model plays again.
  void step_and_drop() {
    try {
      source_.next_frame();
    } catch (const std::exception& error) {
      log_debug("replay: the model's step at frame ", frame_, " fails as it did in the take: ", error.what());
    }
  }

  const std::vector<JournalEvent>& events_;
  FrameSource& source_;
  ControlState& control_;
  ControlSnapshot snapshot_;  // from the defaults at every reset line
  std::vector<float> silence_;
  std::size_t next_ = 0;
  std::uint64_t frame_;
  bool in_take_ = false;
};

// The output rate in force at the take's first frame.
int take_rate(const Journal& journal, std::uint64_t first_frame) {
  int rate = journal.header.output_rate;
  for (const JournalEvent& event : journal.events) {
    if (event.kind == JournalKind::rate && event.frame <= first_frame) rate = static_cast<int>(event.value);
  }
  return rate;
}

}  // namespace

int replay_take(const Config& config, const ModelRegistry& registry, const Invocation& invocation) {
  const std::string& path = invocation.journal_path;
  Journal journal;
  try {
    journal = read_journal(path);
  } catch (const JournalError& error) {
    throw UsageError(error.what());
  }
  const auto audio = std::filesystem::path(path).parent_path() / journal.header.audio_file;
  std::error_code ignored;
  if (std::filesystem::equivalent(audio, invocation.out_path, ignored)) {
    throw UsageError("--out " + invocation.out_path + " is the take's own audio file; write the replay elsewhere");
  }
  const TakeSpan span = take_span(journal, path);
  const JournalHeader& h = journal.header;
  const ModelOptions options{h.prefill_frames, model_dirs(config.model.dir), replay_backend(config.model.backend, h)};
  const std::unique_ptr<Model> model = registry.load(h.model_spec, options);
  check_replayable(journal, model->info(), path);
  ControlState control(ControlSnapshot{});
  FrameSource source(*model, control, h.output_rate, h.resampler);
  JournalDriver driver(journal, source, control);
  const int rate = take_rate(journal, span.first_frame);
  log_info("replay: ", span.samples, " frames at ", rate, " Hz (length from ", span.length_from, "), from frame ",
           span.first_frame, " of ", h.model_spec, "; ", span.first_frame - driver.frame(),
           " frames before it are made again first");
  try {
    const std::uint64_t origin = driver.frame();
    const std::uint64_t tenth = std::max<std::uint64_t>((span.first_frame - origin) / 10, 1);
    write_audio_file(invocation.out_path, rate, span.samples, [&] {
      for (;;) {
        const std::uint64_t frame = driver.frame();
        const std::span<const float> audio = driver.next_audio();
        if (driver.in_take()) return audio;
        // The frames before the take may take long (a take started hours after a reset).
        if (frame > origin && frame != driver.frame() && (frame - origin) % tenth == 0) {
          log_info("replay: before the take: ", 100 * (frame - origin) / (span.first_frame - origin), "% of ",
                   span.first_frame - origin, " frames");
        }
      }
    }, "replay");
  } catch (const JournalError& error) {
    log_error("replay: ", path, ": ", error.what());
    return kExitFailure;
  } catch (const std::exception& error) {
    log_error("replay: ", error.what());
    return kExitFailure;
  }
  log_info("replay: wrote ", invocation.out_path);
  return 0;
}

}  // namespace continuo
