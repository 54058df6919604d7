#pragma once

#include <memory>
#include <string>

namespace continuo {

// Where the Link session's timeline is now.
struct LinkPosition {
  int peers = 0;         // other Link peers in the session
  double tempo = 0.0;    // beats per minute
  double beat = 0.0;     // the session's beat at this instant, aligned to the quantum
  double phase = 0.0;    // beat within the bar: 0 <= phase < quantum
};

// continuo as an Ableton Link peer (link.enabled; docs/multi-machine.md). Link's own
// threads find the other peers on the local network and keep one tempo and beat timeline
// with them; continuo reads and sets it through Link's application-thread API, from the
// main and OSC threads. Nothing here runs on the audio thread.
class LinkPeer {
 public:
  // Joins the session at once; tempo is the session's tempo until a peer says otherwise.
  // quantum: beats per bar, what phase and bar boundaries are counted in.
  LinkPeer(double tempo, double quantum);
  ~LinkPeer();
  LinkPeer(const LinkPeer&) = delete;
  LinkPeer& operator=(const LinkPeer&) = delete;

  LinkPosition now() const;
  // Sets the tempo for the whole session; "" or why not (bpm outside Link's 20..999).
  std::string set_tempo(double bpm);

 private:
  struct Session;  // Link's headers stay in link_peer.cpp: they are heavy
  std::unique_ptr<Session> session_;
  double quantum_;
};

}  // namespace continuo
