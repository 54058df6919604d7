#include "engine/generator.hpp"

#include <algorithm>
#include <chrono>

#include "engine/log.hpp"

namespace continuo {
Generator::Generator(FrameSource& source, AudioRing& ring, std::size_t lookahead_frames, std::uint64_t reset_seed)
    : source_(source),
      ring_(ring),
      lookahead_frames_(lookahead_frames),
      reset_seed_(reset_seed),
      analyser_(source.output_rate()) {}

Generator::~Generator() { stop(); }

void Generator::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { loop(); });
}

void Generator::stop() {
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

void Generator::request_reset(std::uint64_t seed) {
  reset_seed_.store(seed, std::memory_order_relaxed);
  reset_arrived_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  reset_requested_.store(true, std::memory_order_release);
}

void Generator::request_model(Model& next, std::uint64_t seed) {
  reset_seed_.store(seed, std::memory_order_relaxed);
  next_model_.store(&next, std::memory_order_release);
}

std::string Generator::apply_context(const AudioEncoder& from, std::span<const int> tokens) {
  ContextRequest request{&from, tokens, {}};
  const std::uint64_t before = contexts_answered_.load(std::memory_order_acquire);
  context_request_.store(&request, std::memory_order_release);
  while (contexts_answered_.load(std::memory_order_acquire) == before) {
    if (!running_.load(std::memory_order_relaxed)) {
      // Taken back unanswered unless the generator took it just before stopping.
      if (context_request_.exchange(nullptr, std::memory_order_acq_rel) != nullptr) return "the generator stopped";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return request.why;
}

std::string Generator::failure_reason() const {
  const std::lock_guard lock(failure_mutex_);
  return failure_reason_;
}

std::uint64_t Generator::frames_read() const {
  const std::uint64_t pushed = frames_pushed_.load(std::memory_order_acquire);
  return pushed - std::min<std::uint64_t>(pushed, ring_.readable_frames());
}

void Generator::loop() {
  while (running_.load(std::memory_order_relaxed)) {
    if (!fill_once()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool Generator::fill_once() {
  if (Model* next = next_model_.exchange(nullptr, std::memory_order_acquire)) swap_now(*next);
  if (reset_requested_.exchange(false, std::memory_order_acquire)) reset_now();
  if (ContextRequest* request = context_request_.exchange(nullptr, std::memory_order_acquire)) {
    context_now(*request);
    contexts_answered_.fetch_add(1, std::memory_order_release);
  }
  if (pending_offset_ < pending_.size()) {
    push_pending();
    return pending_offset_ == pending_.size();
  }
  if (ring_.readable_frames() >= lookahead_frames_) return false;
  if (failing_) {
    retry_or_play_silence();
  } else {
    step_or_fail();
  }
  push_pending();
  return true;
}

void Generator::step_or_fail() {
  try {
    make_frame();
  } catch (const std::exception& error) {
    start_failing(error.what());
  }
}

// Logged once per failure, not per retry; the main loop tells OSC subscribers.
void Generator::start_failing(const std::string& reason) {
  failing_ = true;
  failing_flag_.store(true, std::memory_order_relaxed);
  {
    const std::lock_guard lock(failure_mutex_);
    failure_reason_ = reason;
  }
  step_failures_.fetch_add(1, std::memory_order_relaxed);
  log_error("generator: the model failed: ", reason,
            "; playing silence, resetting the model to retry after every second of it");
  // What the model made before it failed fades out rather than ending in a click.
  drop_lookahead();
  silence_since_retry_ = 0;
  play_silence();
}

void Generator::play_silence() {
  const std::span<const float> silence = source_.silent_frame();
  pending_.assign(silence.begin(), silence.end());
  pending_offset_ = 0;
  silence_since_retry_ += silence.size() / AudioRing::kChannels;
}

void Generator::retry_or_play_silence() {
  if (silence_since_retry_ < static_cast<std::size_t>(source_.output_rate())) {
    play_silence();
    return;
  }
  silence_since_retry_ = 0;
  try {
    source_.reset(reset_seed_.load(std::memory_order_relaxed));
    make_frame();
  } catch (const std::exception& error) {
    log_debug("generator: the model still fails: ", error.what());
    play_silence();
    return;
  }
  failing_ = false;
  failing_flag_.store(false, std::memory_order_relaxed);
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  log_info("generator: the model steps again after a reset; playing on");
  drop_lookahead();  // the silence queued is dropped: the fresh frame fades in now
}

// Between frames, at once: the old continuation ends where the ring ends now.
void Generator::reset_now() {
  pending_.clear();
  pending_offset_ = 0;
  try {
    source_.reset(reset_seed_.load(std::memory_order_relaxed));
  } catch (const std::exception& error) {
    if (!failing_) start_failing(error.what());
    return;
  }
  resets_.fetch_add(1, std::memory_order_relaxed);
  // A failing model gets its next try at once.
  if (failing_) silence_since_retry_ = static_cast<std::size_t>(source_.output_rate());
  const std::uint64_t fresh = frames_pushed_.load(std::memory_order_relaxed);
  const std::uint64_t dropped = drop_lookahead();
  const ControlChange request{0, std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(
                                     reset_arrived_ns_.load(std::memory_order_relaxed)))};
  reset_latency_.frame_queued({&request, 1}, fresh);
  log_info("generator: reset, a fresh continuation from ring position ", fresh, " (", dropped,
           " frames of lookahead dropped)");
}

// Between frames, as reset_now, with the performer's audio as the context.
void Generator::context_now(ContextRequest& request) {
  if (failing_) {
    request.why = "the model is failing: " + failure_reason();
    return;
  }
  try {
    if (!source_.reset_to_context(*request.from, reset_seed_.load(std::memory_order_relaxed), request.tokens)) {
      request.why = "the model was switched while the audio was being encoded";
      return;
    }
  } catch (const std::exception& error) {
    request.why = error.what();
    start_failing(error.what());
    return;
  }
  pending_.clear();  // the old continuation ends where the ring ends now
  pending_offset_ = 0;
  resets_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t dropped = drop_lookahead();
  log_info("generator: reset to the live input's context, a fresh continuation from ring position ",
           frames_pushed_.load(std::memory_order_relaxed), " (", dropped, " frames of lookahead dropped)");
}

// The model was reset by whoever loaded it; only what this thread holds starts afresh.
void Generator::swap_now(Model& next) {
  pending_.clear();
  pending_offset_ = 0;
  source_.use_model(next, reset_seed_.load(std::memory_order_relaxed));
  models_swapped_.fetch_add(1, std::memory_order_release);
  drop_lookahead();
  failing_ = false;  // the new model gets its own chance
  failing_flag_.store(false, std::memory_order_relaxed);
  log_info("generator: now stepping ", next.info().name);
}

// Everything in the ring goes stale: playback fades it out and drops it, and the next
// frame pushed starts as from silence. Returns the frames dropped unheard.
std::uint64_t Generator::drop_lookahead() {
  const std::uint64_t fresh = frames_pushed_.load(std::memory_order_relaxed);
  const std::uint64_t read = frames_read();
  ring_.request_skip(fresh);
  // Frames not started yet will not be heard: their features are dropped, and the changes
  // they were the first to carry are heard with the first fresh frame instead.
  analysis_.drop_after(read);
  latency_.moved(read, fresh);
  reset_latency_.moved(read, fresh);  // an earlier reset not heard yet is heard with this one
  return fresh - std::min(fresh, read);
}

void Generator::push_pending() {
  const std::size_t frames = ring_.push(std::span<const float>(pending_).subspan(pending_offset_));
  pending_offset_ += frames * AudioRing::kChannels;
  frames_pushed_.fetch_add(frames, std::memory_order_release);
}

// One frame boundary: rate changes and resets take effect here, then the frame is made
// and its control changes are queued for latency measurement at the ring position it
// will start playing from (everything before it is pushed by now).
void Generator::make_frame() {
  const int rate = requested_rate_.load(std::memory_order_relaxed);
  if (rate > 0 && rate != source_.output_rate()) {
    log_info("generator: output rate ", source_.output_rate(), " -> ", rate, " Hz");
    source_.set_output_rate(rate);
  }
  const std::span<const float> frame = source_.next_frame();
  pending_.assign(frame.begin(), frame.end());
  pending_offset_ = 0;
  latency_.frame_queued(source_.last_frame_changes(), frames_pushed_.load(std::memory_order_relaxed));
  // The audio exactly as it is pushed (fades included), heard from ring position start.
  if (!analysis_wanted_.load(std::memory_order_relaxed)) {
    analyser_.skip(pending_, source_.output_rate());
    return;
  }
  analysis_.push(analyser_.analyse(pending_, source_.output_rate()), frames_pushed_.load(std::memory_order_relaxed));
  frames_analysed_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace continuo
