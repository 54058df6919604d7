#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <boost/lockfree/spsc_queue.hpp>

#include "engine/realtime.hpp"

namespace continuo {

// One JACK MIDI event, copied out of the port buffer. Short messages fit with room for a
// few running-status repeats; anything longer (SysEx dumps) never reaches the ring.
struct MidiEvent {
  static constexpr std::size_t kMaxBytes = 16;
  std::uint32_t time = 0;  // JACK frame time of the event (jack_last_frame_time + offset)
  std::uint8_t size = 0;
  std::array<std::uint8_t, kMaxBytes> bytes{};
};

// What the audio thread dropped instead of pushing. Counted, never logged there.
struct MidiRingDrops {
  std::uint64_t full = 0;      // the reader fell behind
  std::uint64_t oversize = 0;  // longer than MidiEvent::kMaxBytes, or empty
  std::uint64_t sysex = 0;     // starts with 0xF0: controllers' dumps are no performer control
};

// MIDI events from the JACK process callback (the one producer) to MidiInput's thread
// (the one consumer). Storage is allocated once at construction; push is wait-free and
// never allocates, so the process callback may call it.
class MidiRing {
 public:
  explicit MidiRing(std::size_t capacity = 1024) : queue_(capacity) {}
  MidiRing(const MidiRing&) = delete;
  MidiRing& operator=(const MidiRing&) = delete;

  // Producer (audio thread). False when the event was dropped, and why is counted.
  bool push(std::uint32_t time, const std::uint8_t* data, std::size_t size) CONTINUO_REALTIME {
    if (size > 0 && data[0] == 0xF0) return count(sysex_);
    if (size == 0 || size > MidiEvent::kMaxBytes) return count(oversize_);
    MidiEvent event;
    event.time = time;
    event.size = static_cast<std::uint8_t>(size);
    std::copy(data, data + size, event.bytes.begin());
    if (!queue_.push(event)) return count(full_);
    return true;
  }

  // Consumer (MidiInput's thread).
  bool pop(MidiEvent& event) { return queue_.pop(event); }

  MidiRingDrops drops() const {
    return {full_.load(std::memory_order_relaxed), oversize_.load(std::memory_order_relaxed),
            sysex_.load(std::memory_order_relaxed)};
  }

 private:
  static bool count(std::atomic<std::uint64_t>& counter) CONTINUO_REALTIME {
    counter.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  boost::lockfree::spsc_queue<MidiEvent> queue_;
  std::atomic<std::uint64_t> full_{0};
  std::atomic<std::uint64_t> oversize_{0};
  std::atomic<std::uint64_t> sysex_{0};
};

}  // namespace continuo
