#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace continuo {

inline constexpr int kStyleTokens = 12;
inline constexpr int kPitches = 128;

// Per-pitch note state as the Magenta RealTime 2 family reads it.
enum class NoteState : std::int8_t { masked = -1, off = 0, sustain = 1, onset = 2, model_decides = 3 };

constexpr std::array<NoteState, kPitches> all_pitches(NoteState state) {
  std::array<NoteState, kPitches> notes{};
  notes.fill(state);
  return notes;
}

// Everything a model reads for one frame. Taken whole at a frame boundary, so a frame
// never sees half of a change made by a performer.
struct ControlSnapshot {
  std::uint64_t version = 0;  // bumped by every change, so the generator can tell what it saw
  std::array<int, kStyleTokens> style_tokens{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};  // -1 masked
  std::array<NoteState, kPitches> notes = all_pitches(NoteState::masked);  // no MIDI yet: the model decides
  int drums = -1;  // -1 model decides, 0 off, 1 on
  float cfg_style = 5.0f;
  float cfg_notes = 5.0f;
  float cfg_drums = 5.0f;
  float temperature = 1.1f;
  int top_k = 40;
  std::uint64_t seed = 0;
  // What a note-on asks of the model (the model never reads this; ControlState applies it
  // to notes): 1 an onset frame, then sustain; 0 straight to sustain, so the pitch joins
  // legato without a new attack.
  int onset_mode = 1;
};

// One performer change: the version it created and when it arrived, so its latency to
// the first sample heard can be measured (docs/osc.md, control latency).
struct ControlChange {
  std::uint64_t version = 0;
  std::chrono::steady_clock::time_point arrived;
};

// The control state that MIDI and OSC write and the generator reads. Neither side is the
// audio thread, so a mutex is the simplest correct guard; the copy it protects is small.
class ControlState {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // clock: what timestamps each change on arrival; tests pass a fake one.
  explicit ControlState(const ControlSnapshot& initial, Clock clock = std::chrono::steady_clock::now);

  ControlSnapshot snapshot() const;
  void update(const std::function<void(ControlSnapshot&)>& edit);

  // The generator's snapshot for one frame. Every onset it carries becomes sustain in the
  // live state, so the model sees exactly one onset frame per note-on.
  ControlSnapshot take_frame_snapshot();
  // The same, also handing over the changes no frame had carried yet (oldest first), so
  // the caller knows which performer changes this frame is the first to hear.
  ControlSnapshot take_frame_snapshot(std::vector<ControlChange>& carried);

  // A note-on is an onset (onset_mode 1) or sustain (onset_mode 0); the first one turns
  // every masked pitch off, so what the performer holds is what the model is asked for. A
  // note-off for a note-on no frame has taken yet waits for that frame, so a short tap is
  // still heard.
  void note_on(int pitch);
  void note_off(int pitch);
  void clear_notes();  // every pitch back to masked: the model decides again

 private:
  // Caller holds mutex_. A change the performer made: bumps the version and stamps it.
  void changed();

  // Bounded: a flood between two frames keeps the newest stamps and drops the rest
  // (they would all measure the same frame anyway).
  static constexpr std::size_t kMaxUncarried = 1024;

  mutable std::mutex mutex_;
  Clock clock_;
  ControlSnapshot current_;
  std::array<bool, kPitches> unseen_{};  // struck since the last frame snapshot
  std::array<bool, kPitches> release_after_frame_{};
  std::vector<ControlChange> uncarried_;  // changes no frame snapshot has taken yet
};

int held_notes(const ControlSnapshot& snapshot);  // pitches in onset or sustain

}  // namespace continuo
