#include "engine/recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "engine/audio_file.hpp"
#include "engine/log.hpp"

namespace continuo {
namespace {

// A take started after this much journal since the last reset cannot carry its history
// (about a day of busy playing); replay then refuses it and says why.
constexpr std::size_t kMaxHistoryBytes = 64u << 20;
constexpr auto kIdlePoll = std::chrono::milliseconds(2);
constexpr auto kStopTimeout = std::chrono::seconds(10);

std::string utc_now(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// The journal is append-only; the audio file is not, since libsndfile rewrites its header.
int create_file(const std::filesystem::path& path, int append) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | append, 0644);
}

// The whole text in as few write(2) calls as the kernel allows; false on an error.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

struct SessionRecorder::Take {
  TakeFiles files;
  Fd journal;
  Fd audio_fd;
  SndfilePtr audio;
  bool started = false;  // the first frame with audio has been written
  std::uint64_t next = 0;  // the frame after the last one written
  std::uint64_t samples = 0;
  std::chrono::steady_clock::time_point synced = std::chrono::steady_clock::now();
};

SessionRecorder::SessionRecorder(const RecordConfig& config, JournalHeader facts, std::uint64_t seed)
    : config_(config),
      facts_(std::move(facts)),
      // A frame's events may pile up four times as long as its audio: audio drops first,
      // and the journal stays whole.
      events_(static_cast<std::size_t>(
          std::max(64.0, 4.0 * config.buffer_seconds * facts_.model_rate / std::max(facts_.frame_samples, 1)))),
      audio_(static_cast<std::size_t>(std::ceil(config.buffer_seconds * 2 * 1.05 * facts_.output_rate))),
      rate_(facts_.output_rate),
      origin_rate_(facts_.output_rate) {
  history_ = journal_line({0, JournalKind::reset, seed, {}});
  writer_ = std::thread([this] { write_loop(); });
}

SessionRecorder::~SessionRecorder() {
  TakeFiles ignored;
  if (recording()) stop(ignored);
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  writer_.join();
}

// ---- The generator's side -----------------------------------------------------------------

void SessionRecorder::push(const Event& event) CONTINUO_REALTIME {
  if (!events_.push(event)) lost_.fetch_add(1, std::memory_order_relaxed);
}

void SessionRecorder::on_frame(std::uint64_t frame, const ControlSnapshot& control, std::span<const float> audio)
    CONTINUO_REALTIME {
  Event event{Kind::frame, Audio::none, static_cast<std::uint32_t>(audio.size() / 2), frame, 0, control};
  if (audio_wanted_.load(std::memory_order_acquire)) {
    event.audio = Audio::dropped;
    if (audio_.write_available() >= audio.size()) {
      audio_.push(audio.data(), audio.size());
      event.audio = Audio::queued;
    } else {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  push(event);
}

void SessionRecorder::on_reset(std::uint64_t frame, std::uint64_t seed) CONTINUO_REALTIME {
  push({Kind::reset, Audio::none, 0, frame, seed, {}});
}

void SessionRecorder::on_context(std::uint64_t frame, std::uint64_t seed) CONTINUO_REALTIME {
  push({Kind::context, Audio::none, 0, frame, seed, {}});
}

void SessionRecorder::on_step_failed(std::uint64_t frame) CONTINUO_REALTIME {
  push({Kind::fail, Audio::none, 0, frame, 0, {}});
}

void SessionRecorder::on_silence(std::uint64_t frame, std::size_t samples) CONTINUO_REALTIME {
  const Audio audio = audio_wanted_.load(std::memory_order_acquire) ? Audio::silent : Audio::none;
  push({Kind::silence, audio, static_cast<std::uint32_t>(samples), frame, 0, {}});
}

void SessionRecorder::on_output_rate(std::uint64_t frame, int rate) CONTINUO_REALTIME {
  push({Kind::rate, Audio::none, 0, frame, static_cast<std::uint64_t>(rate), {}});
}

void SessionRecorder::on_model(std::uint64_t frame, std::uint64_t seed) CONTINUO_REALTIME {
  push({Kind::model, Audio::none, 0, frame, seed, {}});
}

// ---- Control threads ----------------------------------------------------------------------

RecordResult SessionRecorder::start(TakeFiles& files) {
  std::lock_guard lock(mutex_);
  if (recording()) return "already recording " + last_files_.audio;
  const std::filesystem::path dir(config_.dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return "cannot create record.dir '" + config_.dir + "': " + error.message();
  auto take = std::make_unique<Take>();
  const std::string stem = "take-" + utc_now("%Y%m%d-%H%M%SZ");
  for (int n = 1; take->journal.get() < 0; ++n) {
    const std::string name = stem + (n > 1 ? "-" + std::to_string(n) : "");
    take->files = {(dir / (name + audio_extension(config_.format))).string(), (dir / (name + ".journal")).string()};
    if (n > 100) return "cannot create a take in '" + config_.dir + "': too many takes named " + stem;
    if (std::filesystem::exists(take->files.audio, error)) continue;
    take->journal.reset(create_file(take->files.journal, O_APPEND));
    if (take->journal.get() < 0 && errno != EEXIST) {
      return "cannot create '" + take->files.journal + "': " + std::strerror(errno);
    }
  }
  take->audio_fd.reset(create_file(take->files.audio, 0));
  if (take->audio_fd.get() < 0) return "cannot create '" + take->files.audio + "': " + std::strerror(errno);
  files = last_files_ = take->files;
  pending_ = std::move(take);
  recording_.store(true, std::memory_order_relaxed);
  audio_wanted_.store(true, std::memory_order_release);
  return {};
}

void SessionRecorder::offer_context(std::span<const int> tokens) {
  std::lock_guard lock(mutex_);
  offered_contexts_.emplace_back(tokens.begin(), tokens.end());
}

void SessionRecorder::withdraw_context() {
  std::lock_guard lock(mutex_);
  if (!offered_contexts_.empty()) offered_contexts_.pop_back();
}

void SessionRecorder::use_model(JournalHeader facts) {
  std::lock_guard lock(mutex_);
  next_facts_ = std::move(facts);
  if (facts_stale_) adopt_model_facts();
}

RecordResult SessionRecorder::stop(TakeFiles& files) {
  std::unique_lock lock(mutex_);
  if (!recording()) return "not recording";
  audio_wanted_.store(false, std::memory_order_release);
  stop_requested_ = true;
  files = last_files_;
  if (!changed_.wait_for(lock, kStopTimeout, [this] { return !stop_requested_; })) {
    return "the writer did not finish " + files.audio + " within 10 s";
  }
  return {};
}

// ---- The writer thread --------------------------------------------------------------------

void SessionRecorder::write_loop() {
  for (;;) {
    const bool busy = drain();
    std::unique_lock lock(mutex_);
    if (stop_requested_) {
      lock.unlock();
      drain();  // everything the generator pushed before the stop was seen
      lock.lock();
      if (pending_) attach(std::move(pending_));  // no audio came: the files still say so
      if (take_) end_take("");
      stop_requested_ = false;
      recording_.store(false, std::memory_order_relaxed);
      changed_.notify_all();
    }
    if (quit_) return;
    lock.unlock();
    if (take_ && take_->started &&
        std::chrono::steady_clock::now() - take_->synced >= std::chrono::milliseconds(config_.sync_ms)) {
      sync();
    }
    if (!busy) std::this_thread::sleep_for(kIdlePoll);
  }
}

// Everything queued so far; true when there was something.
bool SessionRecorder::drain() {
  bool any = false;
  Event event;
  while (events_.pop(event)) {
    handle(event);
    any = true;
  }
  return any;
}

void SessionRecorder::handle(const Event& event) {
  const std::uint64_t lost = lost_.load(std::memory_order_relaxed);
  if (lost != lost_seen_) {
    log_warn("recorder: the writer fell ", lost - lost_seen_, " events behind; a replay of this session diverges from frame ",
             event.frame);
    emit({event.frame, JournalKind::lost, lost - lost_seen_, {}}, true);
    lost_seen_ = lost;
  }
  switch (event.kind) {
    case Kind::reset:
      start_history({event.frame, JournalKind::reset, event.value, {}});
      break;
    case Kind::context:
      start_history(context_line(event));
      break;
    case Kind::fail:
      emit({event.frame, JournalKind::fail, 0, {}}, true);
      break;
    case Kind::model:
      if (take_) end_take("the model was switched at frame " + std::to_string(event.frame));
      {
        std::lock_guard lock(mutex_);
        facts_stale_ = true;
        if (next_facts_) adopt_model_facts();
      }
      start_history({event.frame, JournalKind::reset, event.value, {}});
      break;
    case Kind::rate:
      rate_ = static_cast<int>(event.value);
      emit({event.frame, JournalKind::rate, event.value, {}}, true);
      if (take_) end_take("the output rate changed to " + std::to_string(rate_) + " Hz");
      break;
    case Kind::frame:
    case Kind::silence:
      handle_frame(event);
      break;
  }
}

// A fresh continuation: the history replay needs starts here, and the controls are
// journaled again from the defaults (replay starts from them at every reset line).
void SessionRecorder::start_history(JournalEvent reset) {
  history_.clear();
  history_complete_ = true;
  last_ = ControlSnapshot{};
  origin_rate_ = rate_;
  emit(std::move(reset), true);
}

// The tokens offered for this reset to a context. Without them (a caller that offered
// none) a plain reset line: a replay continues from a silence prefill there, as it says.
JournalEvent SessionRecorder::context_line(const Event& event) {
  JournalEvent line{event.frame, JournalKind::context, event.value, {}};
  std::lock_guard lock(mutex_);
  if (offered_contexts_.empty()) {
    log_warn("recorder: the reset to a context at frame ", event.frame,
             " came without its tokens; a replay continues from a silence prefill there");
    line.kind = JournalKind::reset;
    return line;
  }
  line.text = context_text(offered_contexts_.front());
  offered_contexts_.pop_front();
  return line;
}

// With mutex_ held, once both the switch and use_model's facts have come (either first).
void SessionRecorder::adopt_model_facts() {
  facts_ = std::move(*next_facts_);
  next_facts_.reset();
  facts_stale_ = false;
}

// A frame, or silence played while the model failed.
void SessionRecorder::handle_frame(const Event& event) {
  // A take begins with the first frame (or silence) whose audio was made for it; everything
  // before it is the history its journal starts with. Its take line comes before the
  // frame's own lines, so it marks the first audio of the take even among silence lines.
  const bool for_take = event.audio == Audio::queued || event.audio == Audio::silent;
  if (!take_ && for_take) {
    std::unique_lock lock(mutex_);
    if (pending_) attach(std::move(pending_));
  }
  if (take_ && !take_->started && for_take) {
    emit({event.frame, JournalKind::take, 0, {}}, false);
    take_->started = true;
  }
  if (event.kind == Kind::silence) {
    emit({event.frame, JournalKind::silence, event.samples, {}}, true);
  } else {
    const std::string changes = control_changes(last_, event.control);
    if (!changes.empty()) emit({event.frame, JournalKind::set, 0, changes}, true);
    last_ = event.control;
  }
  // Audio::none in a take: a frame made after stop was asked for, not part of the take.
  if (take_ && take_->started && event.audio != Audio::none) {
    write_audio(event);
    return;
  }
  // Audio of a frame the take does not hold (it ended, or the writer has not attached it).
  scratch_.resize(event.audio == Audio::queued ? 2 * event.samples : 0);
  audio_.pop(scratch_.data(), scratch_.size());
}

// A model line goes to the history and, during a take, to its journal; a take's own lines
// (take, sync, drop, end) to its journal only.
void SessionRecorder::emit(JournalEvent event, bool model) {
  const std::string line = journal_line(event);
  if (model) {
    history_ += line;
    if (history_.size() > kMaxHistoryBytes) {
      history_.clear();
      history_complete_ = false;
    }
  }
  if (take_ && !write_all(take_->journal.get(), line)) {
    end_take(std::string("cannot write '") + take_->files.journal + "': " + std::strerror(errno));
  }
}

void SessionRecorder::attach(std::unique_ptr<Take> take) {
  if (facts_stale_) {
    log_error("recorder: ", take->files.audio, " not recorded: the model was being switched; start the take again");
    recording_.store(false, std::memory_order_relaxed);
    audio_wanted_.store(false, std::memory_order_release);
    return;
  }
  facts_.audio_file = std::filesystem::path(take->files.audio).filename().string();
  facts_.output_rate = origin_rate_;
  facts_.started = utc_now("%Y-%m-%dT%H:%M:%SZ");
  try {
    take->audio = open_audio_fd(take->audio_fd.get(), take->files.audio, rate_, config_.format, std::nullopt);
  } catch (const std::exception& error) {
    log_error("recorder: ", error.what());
    recording_.store(false, std::memory_order_relaxed);
    audio_wanted_.store(false, std::memory_order_release);
    return;
  }
  if (!history_complete_) {
    log_warn("recorder: more journal since the last reset than the recorder keeps; ", take->files.journal,
             " cannot be replayed (reset before recording to make it replayable)");
  }
  const std::string head = journal_header_text(facts_) + (history_complete_ ? history_ : "");
  if (!write_all(take->journal.get(), head)) {
    log_error("recorder: cannot write '", take->files.journal, "': ", std::strerror(errno));
    recording_.store(false, std::memory_order_relaxed);
    audio_wanted_.store(false, std::memory_order_release);
    return;
  }
  // The take's directory entries survive a power cut too.
  const Fd dir(::open(std::filesystem::path(take->files.audio).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  log_info("recorder: recording ", take->files.audio, " and ", take->files.journal);
  take_ = std::move(take);
}

void SessionRecorder::write_audio(const Event& event) {
  scratch_.resize(2 * static_cast<std::size_t>(event.samples));
  if (event.audio == Audio::queued) {
    audio_.pop(scratch_.data(), scratch_.size());
  } else {
    std::fill(scratch_.begin(), scratch_.end(), 0.0f);
  }
  if (event.audio == Audio::dropped) {
    // Silence keeps the file aligned with the journal.
    emit({event.frame, JournalKind::drop, event.samples, {}}, false);
    if (!take_) return;
  }
  const auto frames = static_cast<sf_count_t>(event.samples);
  if (sf_writef_float(take_->audio.get(), scratch_.data(), frames) != frames) {
    end_take(std::string("cannot write '") + take_->files.audio + "': " + sf_strerror(take_->audio.get()));
    return;
  }
  take_->samples += event.samples;
  take_->next = event.kind == Kind::silence ? event.frame : event.frame + 1;  // silence: the frame is still to come
}

void SessionRecorder::sync() {
  sf_command(take_->audio.get(), SFC_UPDATE_HEADER_NOW, nullptr, 0);
  emit({take_->next, JournalKind::sync, take_->samples, {}}, false);
  if (!take_) return;
  ::fsync(take_->audio_fd.get());
  ::fsync(take_->journal.get());
  take_->synced = std::chrono::steady_clock::now();
}

// why: empty for a stop asked for; otherwise the reason, logged.
void SessionRecorder::end_take(const std::string& why) {
  std::unique_ptr<Take> take = std::move(take_);
  if (take->started) write_all(take->journal.get(), journal_line({take->next, JournalKind::end, take->samples, {}}));
  take->audio.reset();  // sf_close: the final header
  ::fsync(take->audio_fd.get());
  ::fsync(take->journal.get());
  if (why.empty()) {
    log_info("recorder: finished ", take->files.audio, " (", take->samples, " frames)");
    return;
  }
  log_error("recorder: take ", take->files.audio, " ended: ", why);
  audio_wanted_.store(false, std::memory_order_release);
  recording_.store(false, std::memory_order_relaxed);
}

}  // namespace continuo
