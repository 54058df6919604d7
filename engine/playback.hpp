#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "engine/audio_ring.hpp"
#include "engine/realtime.hpp"

namespace continuo {

struct PlaybackConfig {
  std::size_t fade_frames = 480;        // fade in after silence, fade out on underrun
  std::size_t gain_ramp_frames = 960;   // volume and mute changes glide over this long
  std::size_t resume_frames = 4800;     // ring fill needed before (re)starting to play
  float volume_db = 0.0f;
};

// The audio thread's whole job: pull generated audio from the ring, apply gain, and fade
// around gaps. It never waits for the generator: when the ring runs dry it fades the last
// sample it played to zero, counts an underrun, and fades back in once the ring holds
// resume_frames again. When the generator marks the audio in the ring stale (a reset,
// AudioRing::request_skip) it fades out over fade_frames, drops the stale rest, and starts
// again as from silence: no underrun is counted.
class Playback {
 public:
  Playback(AudioRing& ring, const PlaybackConfig& config);

  // Any thread: the new gain is reached by a ramp inside render.
  void set_volume_db(float db);
  void set_muted(bool muted);

  void render(float* left, float* right, std::size_t frames) CONTINUO_REALTIME;

  // Plays on from silence with a fade-in, as after a JACK server restart. Only while no
  // process callback runs (the client is not active).
  void restart_with_fade_in();

  std::uint64_t underruns() const { return underruns_.load(std::memory_order_relaxed); }
  std::uint64_t frames_played() const { return frames_played_.load(std::memory_order_relaxed); }
  bool playing() const { return playing_flag_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kChunkFrames = 512;

  void render_chunk(float* left, float* right, std::size_t frames) CONTINUO_REALTIME;
  void render_skip(float* left, float* right, std::size_t frames, std::uint64_t skip_to) CONTINUO_REALTIME;
  void discard_until(std::uint64_t position) CONTINUO_REALTIME;
  void render_silence(float* left, float* right, std::size_t frames) CONTINUO_REALTIME;
  void start_gain_ramp_if_needed() CONTINUO_REALTIME;
  float next_gain() CONTINUO_REALTIME;
  float next_fade_in() CONTINUO_REALTIME;

  AudioRing& ring_;
  const PlaybackConfig config_;
  std::array<float, kChunkFrames * AudioRing::kChannels> scratch_{};

  // Written by control threads, read by the audio thread.
  std::atomic<float> volume_gain_;
  std::atomic<bool> muted_{false};

  // Audio-thread state.
  bool playing_ = false;
  float gain_;
  float ramp_target_;
  float ramp_step_ = 0.0f;
  std::size_t ramp_left_ = 0;
  std::size_t fade_in_pos_ = 0;
  std::array<float, AudioRing::kChannels> last_{};  // last sample played, for the fade-out tail
  std::size_t fade_out_pos_ = 0;
  bool skipping_ = false;         // fading out audio the generator has replaced (a reset)
  std::size_t skip_fade_pos_ = 0;

  std::atomic<std::uint64_t> underruns_{0};
  std::atomic<std::uint64_t> frames_played_{0};
  std::atomic<bool> playing_flag_{false};
};

float db_to_gain(float db);

}  // namespace continuo
