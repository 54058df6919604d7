#include "engine/control_state.hpp"

#include <algorithm>

namespace continuo {

ControlState::ControlState(const ControlSnapshot& initial) : current_(initial) {}

ControlSnapshot ControlState::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void ControlState::update(const std::function<void(ControlSnapshot&)>& edit) {
  std::lock_guard lock(mutex_);
  edit(current_);
  ++current_.version;
}

ControlSnapshot ControlState::take_frame_snapshot() {
  std::lock_guard lock(mutex_);
  const ControlSnapshot taken = current_;
  bool changed = false;
  for (int p = 0; p < kPitches; ++p) {
    NoteState& note = current_.notes[static_cast<std::size_t>(p)];
    if (note != NoteState::onset) continue;
    bool& release = release_after_frame_[static_cast<std::size_t>(p)];
    note = release ? NoteState::off : NoteState::sustain;
    release = false;
    changed = true;
  }
  if (changed) ++current_.version;
  return taken;
}

void ControlState::note_on(int pitch) {
  std::lock_guard lock(mutex_);
  for (NoteState& note : current_.notes) {
    if (note == NoteState::masked) note = NoteState::off;
  }
  current_.notes.at(static_cast<std::size_t>(pitch)) = NoteState::onset;
  release_after_frame_.at(static_cast<std::size_t>(pitch)) = false;
  ++current_.version;
}

void ControlState::note_off(int pitch) {
  std::lock_guard lock(mutex_);
  NoteState& note = current_.notes.at(static_cast<std::size_t>(pitch));
  if (note == NoteState::onset) {
    release_after_frame_.at(static_cast<std::size_t>(pitch)) = true;
    return;
  }
  if (note != NoteState::sustain) return;
  note = NoteState::off;
  ++current_.version;
}

void ControlState::clear_notes() {
  std::lock_guard lock(mutex_);
  current_.notes.fill(NoteState::masked);
  release_after_frame_.fill(false);
  ++current_.version;
}

int held_notes(const ControlSnapshot& snapshot) {
  return static_cast<int>(std::count_if(snapshot.notes.begin(), snapshot.notes.end(), [](NoteState n) {
    return n == NoteState::onset || n == NoteState::sustain;
  }));
}

}  // namespace continuo
