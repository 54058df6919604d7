#include "engine/link_peer.hpp"

#include <ableton/Link.hpp>

#include "engine/log.hpp"
#include "engine/number_text.hpp"

namespace continuo {
namespace {

// Link's own bounds on a session tempo.
constexpr double kMinTempo = 20.0;
constexpr double kMaxTempo = 999.0;

}  // namespace

struct LinkPeer::Session {
  explicit Session(double tempo) : link(tempo) {}
  ableton::Link link;
};

LinkPeer::LinkPeer(double tempo, double quantum) : session_(std::make_unique<Session>(tempo)), quantum_(quantum) {
  session_->link.enable(true);
  log_info("link: joined the Link session at ", tempo, " bpm, quantum ", quantum, " beats");
}

LinkPeer::~LinkPeer() { session_->link.enable(false); }

LinkPosition LinkPeer::now() const {
  const auto state = session_->link.captureAppSessionState();
  const auto time = session_->link.clock().micros();
  return {static_cast<int>(session_->link.numPeers()), state.tempo(), state.beatAtTime(time, quantum_),
          state.phaseAtTime(time, quantum_)};
}

std::string LinkPeer::set_tempo(double bpm) {
  if (!(bpm >= kMinTempo && bpm <= kMaxTempo)) {
    return "tempo must be between " + number_text(kMinTempo) + " and " + number_text(kMaxTempo) + " bpm, got " +
           number_text(bpm);
  }
  auto state = session_->link.captureAppSessionState();
  state.setTempo(bpm, session_->link.clock().micros());
  session_->link.commitAppSessionState(state);
  return {};
}

}  // namespace continuo
