#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "engine/config.hpp"
#include "engine/control_state.hpp"
#include "engine/journal.hpp"
#include "engine/realtime.hpp"

namespace continuo {

// Why a take could not start or stop, for the performer; empty when it did.
using RecordResult = std::string;

struct TakeFiles {
  std::string audio;    // paths
  std::string journal;
};

// The session recorder (docs/reliability.md, "Nothing lost"): takes of the generated audio
// and a journal of everything the model was told, for `continuo replay`.
//
// The generator thread hands it each frame, reset and rate change (through FrameSource)
// into two preallocated lock-free queues and never waits: when the writer thread falls
// behind, a frame's audio is dropped and counted (silence in the file, a drop line in the
// journal) rather than the generator stalled. The writer thread does every disk write:
// journal lines appended with one write(2) each before the audio they govern, the audio
// through libsndfile with its header kept current, both fsynced every record.sync_ms. A
// process killed mid-take leaves a playable file and a journal whose lines cover it.
//
// Between takes the writer keeps the journal lines since the last reset, so a take started
// mid-session carries the history replay needs to reach the take's first frame.
class SessionRecorder {
 public:
  SessionRecorder(const RecordConfig& config, JournalHeader facts, std::uint64_t seed);
  ~SessionRecorder();  // ends a take in progress
  SessionRecorder(const SessionRecorder&) = delete;
  SessionRecorder& operator=(const SessionRecorder&) = delete;

  // Generator thread; frame is the index of the frame about to be (reset, rate) or just
  // (on_frame) generated. Never blocks, allocates or calls the system: marked real-time so
  // the compiler holds them to it, though the generator is not the audio thread.
  void on_frame(std::uint64_t frame, const ControlSnapshot& control, std::span<const float> audio) CONTINUO_REALTIME;
  void on_reset(std::uint64_t frame, std::uint64_t seed) CONTINUO_REALTIME;
  // A reset to the context offer_context handed over last (a context line), or when none
  // was offered to a silence prefill (a reset line).
  void on_context(std::uint64_t frame, std::uint64_t seed) CONTINUO_REALTIME;
  void on_output_rate(std::uint64_t frame, int rate) CONTINUO_REALTIME;
  // The model's step for frame threw (a fail line); the generator plays silence, samples
  // stereo frames at a time, until the model steps again (silence lines, and zeros in a take).
  void on_step_failed(std::uint64_t frame) CONTINUO_REALTIME;
  void on_silence(std::uint64_t frame, std::size_t samples) CONTINUO_REALTIME;
  // The generator stepped another model from frame on, reset with seed: a take ends there
  // (a journal replays one model) and the history starts afresh.
  void on_model(std::uint64_t frame, std::uint64_t seed) CONTINUO_REALTIME;
  // Control threads. The tokens a context reset is about to be asked with: a generator
  // thread must not copy them, so they are kept here first, oldest first, for the writer to
  // journal with each on_context. withdraw_context takes back the newest when the
  // generator refused it (no on_context came for it).
  void offer_context(std::span<const int> tokens);
  void withdraw_context();
  // Control threads, after a switch: what the journal of later takes names as the model.
  // Until it comes, a take that would start is refused (its header would name the old one).
  void use_model(JournalHeader facts);

  // Control threads. start opens a new take in record.dir (its files named in files) and
  // returns at once; stop waits until the writer has finished the take's files.
  RecordResult start(TakeFiles& files);
  RecordResult stop(TakeFiles& files);
  bool recording() const { return recording_.load(std::memory_order_relaxed); }
  std::uint64_t dropped_frames() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  enum class Kind : std::uint8_t { frame, reset, context, rate, model, fail, silence };
  // silent: zeros the writer makes itself (Kind::silence), never in the audio queue.
  enum class Audio : std::uint8_t { none, queued, dropped, silent };
  struct Event {
    Kind kind = Kind::frame;
    Audio audio = Audio::none;
    std::uint32_t samples = 0;  // frames of stereo audio
    std::uint64_t frame = 0;
    std::uint64_t value = 0;    // reset, context: seed; rate: Hz
    ControlSnapshot control;
  };
  struct Take;

  void push(const Event& event) CONTINUO_REALTIME;
  void write_loop();
  bool drain();
  void handle(const Event& event);
  void handle_frame(const Event& event);
  void start_history(JournalEvent reset);
  JournalEvent context_line(const Event& event);
  void adopt_model_facts();
  void emit(JournalEvent event, bool model);
  void attach(std::unique_ptr<Take> take);
  void write_audio(const Event& event);
  void end_take(const std::string& why);
  void sync();

  const RecordConfig config_;
  JournalHeader facts_;  // audio.file, output.rate and started are set per take
  boost::lockfree::spsc_queue<Event> events_;
  boost::lockfree::spsc_queue<float> audio_;
  std::atomic<bool> audio_wanted_{false};
  std::atomic<bool> recording_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> lost_{0};  // events the generator found no room for

  // The writer thread's own.
  std::string history_;           // journal lines since the last reset
  bool history_complete_ = true;  // false once it outgrew kMaxHistoryBytes
  ControlSnapshot last_;          // the controls of the last frame, as journaled
  std::uint64_t lost_seen_ = 0;
  int rate_ = 0;         // the output rate now
  int origin_rate_ = 0;  // at the last reset
  std::vector<float> scratch_;
  std::unique_ptr<Take> take_;

  std::mutex mutex_;  // control threads and the writer; never the generator
  std::condition_variable changed_;
  std::unique_ptr<Take> pending_;  // opened by start, attached by the writer
  std::deque<std::vector<int>> offered_contexts_;  // offer_context's, until journaled or withdrawn
  std::optional<JournalHeader> next_facts_;  // use_model's, until the writer has seen the switch
  bool facts_stale_ = false;                 // the writer saw a switch that use_model has not named yet
  bool stop_requested_ = false;
  TakeFiles last_files_;
  bool quit_ = false;
  std::thread writer_;
};

}  // namespace continuo
