#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/realtime.hpp"

namespace continuo {

// The last seconds of the JACK inputs (docs/architecture.md, "The input path"): the process
// callback writes every period into a preallocated ring, overwriting the oldest; a control
// thread copies out the last N frames for /continuo/prefill/live. One writer (the audio
// thread), any number of readers; neither ever waits for the other.
//
// Consistency without a lock, as a seqlock for a ring: before writing samples the writer
// announces the end of what it is about to write (claimed_), after writing it publishes the
// same end (written_). A reader takes written_, copies, then reads claimed_: if the writer
// has meanwhile claimed any slot of the range copied, the copy may be torn and is retried.
// The slack beyond the frames a reader may ask for is what lets a copy of the longest
// request finish before the writer laps it. Samples are relaxed atomics so a torn read is
// a retry, not undefined behaviour; on x86 and ARM they are plain loads and stores.
class InputCapture {
 public:
  static constexpr std::size_t kChannels = 2;

  // max_frames: the most a reader may ask for; slack_frames: what the writer may add during
  // one copy before it is retried (a second of audio is plenty). Allocates everything now.
  InputCapture(std::size_t max_frames, std::size_t slack_frames);

  std::size_t max_frames() const { return max_frames_; }

  // Audio thread: appends frames of the two input ports, overwriting the oldest.
  void write(const float* left, const float* right, std::size_t frames) CONTINUO_REALTIME;

  // Frames written since construction; any thread.
  std::uint64_t frames_written() const { return written_.load(std::memory_order_acquire); }

  // Any thread but the audio thread: the last `frames` frames written, interleaved (L, R,
  // ...), into out (resized). False when fewer than that were ever written, more than
  // max_frames() were asked for, or the writer lapped every attempt.
  bool copy_last(std::size_t frames, std::vector<float>& out) const;

 private:
  const std::size_t max_frames_;
  const std::size_t capacity_;  // frames: max_frames_ + slack
  std::unique_ptr<std::atomic<float>[]> samples_;  // [capacity_][kChannels]
  std::atomic<std::uint64_t> claimed_{0};
  std::atomic<std::uint64_t> written_{0};
};

// Why audio (the inputs, interleaved, or a prompt file) is no use as a model's context or
// prompt, "" when it is: digital silence or a disconnected input ("the input is silent: RMS
// -75.2 dBFS, below -60.0 dBFS") or a signal flattened at full scale ("the input is clipped:
// 12.5% of samples at full scale, above 1.0%"). `what` names the audio in the reason.
std::string input_level_problem(std::span<const float> interleaved, std::string_view what = "the input");

// The last `seconds` of the capture at the JACK rate `rate`, as /continuo/prefill/live and
// /continuo/prompt/N/audio live ask for them: the frames, or why they cannot be had
// (capture off, no JACK rate yet, seconds out of (0, input.capture_seconds], fewer captured
// so far).
struct CaptureRequest {
  std::size_t frames = 0;
  std::string why;
};
CaptureRequest capture_request(const InputCapture* capture, int rate, double seconds);

// Copies the frames of a CaptureRequest out of the capture (interleaved) and checks their
// level: "" or why they are no use (input_level_problem, or the ring overwritten).
std::string read_capture(const InputCapture& capture, std::size_t frames, std::vector<float>& audio);

}  // namespace continuo
