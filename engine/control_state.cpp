#include "engine/control_state.hpp"

#include <algorithm>
#include <utility>

namespace continuo {

ControlState::ControlState(const ControlSnapshot& initial, Clock clock)
    : clock_(std::move(clock)), current_(initial) {
  uncarried_.reserve(kMaxUncarried);
}

void ControlState::changed() {
  ++current_.version;
  if (uncarried_.size() == kMaxUncarried) uncarried_.erase(uncarried_.begin());
  uncarried_.push_back({current_.version, clock_()});
}

ControlSnapshot ControlState::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void ControlState::update(const std::function<void(ControlSnapshot&)>& edit) {
  std::lock_guard lock(mutex_);
  edit(current_);
  changed();
}

ControlSnapshot ControlState::take_frame_snapshot() {
  std::vector<ControlChange> carried;
  return take_frame_snapshot(carried);
}

ControlSnapshot ControlState::take_frame_snapshot(std::vector<ControlChange>& carried) {
  std::lock_guard lock(mutex_);
  carried.assign(uncarried_.begin(), uncarried_.end());
  uncarried_.clear();
  const ControlSnapshot taken = current_;
  bool demoted = false;
  for (std::size_t p = 0; p < kPitches; ++p) {
    if (!unseen_[p]) continue;
    unseen_[p] = false;
    NoteState& note = current_.notes[p];
    const NoteState next = release_after_frame_[p] ? NoteState::off : NoteState::sustain;
    release_after_frame_[p] = false;
    if (note != next) {
      note = next;
      demoted = true;
    }
  }
  if (demoted) ++current_.version;  // the model's own bookkeeping: not a performer change, not stamped
  return taken;
}

void ControlState::note_on(int pitch) {
  std::lock_guard lock(mutex_);
  for (NoteState& note : current_.notes) {
    if (note == NoteState::masked) note = NoteState::off;
  }
  current_.notes.at(static_cast<std::size_t>(pitch)) = current_.onset_mode == 0 ? NoteState::sustain : NoteState::onset;
  unseen_.at(static_cast<std::size_t>(pitch)) = true;
  release_after_frame_.at(static_cast<std::size_t>(pitch)) = false;
  changed();
}

void ControlState::note_off(int pitch) {
  std::lock_guard lock(mutex_);
  NoteState& note = current_.notes.at(static_cast<std::size_t>(pitch));
  if (unseen_.at(static_cast<std::size_t>(pitch))) {
    release_after_frame_.at(static_cast<std::size_t>(pitch)) = true;
    return;
  }
  if (note != NoteState::sustain) return;
  note = NoteState::off;
  changed();
}

void ControlState::clear_notes() {
  std::lock_guard lock(mutex_);
  current_.notes.fill(NoteState::masked);
  unseen_.fill(false);
  release_after_frame_.fill(false);
  changed();
}

int held_notes(const ControlSnapshot& snapshot) {
  return static_cast<int>(std::count_if(snapshot.notes.begin(), snapshot.notes.end(), [](NoteState n) {
    return n == NoteState::onset || n == NoteState::sustain;
  }));
}

}  // namespace continuo
