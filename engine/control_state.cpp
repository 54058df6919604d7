#include "engine/control_state.hpp"

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

}  // namespace continuo
