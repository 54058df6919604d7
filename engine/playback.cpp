#include "engine/playback.hpp"

#include <algorithm>
#include <cmath>

namespace continuo {

float db_to_gain(float db) { return std::pow(10.0f, db / 20.0f); }

Playback::Playback(AudioRing& ring, const PlaybackConfig& config)
    : ring_(ring),
      config_(config),
      volume_gain_(db_to_gain(config.volume_db)),
      gain_(volume_gain_.load()),
      ramp_target_(gain_),
      fade_out_pos_(config.fade_frames) {}

void Playback::set_volume_db(float db) { volume_gain_.store(db_to_gain(db), std::memory_order_relaxed); }

void Playback::set_muted(bool muted) { muted_.store(muted, std::memory_order_relaxed); }

void Playback::restart_with_fade_in() {
  playing_ = false;
  skipping_ = false;
  playing_flag_.store(false, std::memory_order_relaxed);
  fade_out_pos_ = config_.fade_frames;
}

void Playback::render(float* left, float* right, std::size_t frames) CONTINUO_REALTIME {
  std::size_t done = 0;
  while (done < frames) {
    const std::size_t n = std::min(frames - done, kChunkFrames);
    render_chunk(left + done, right + done, n);
    done += n;
  }
  frames_played_.fetch_add(frames, std::memory_order_relaxed);
}

void Playback::render_chunk(float* left, float* right, std::size_t frames) CONTINUO_REALTIME {
  const std::uint64_t skip_to = ring_.skip_to();
  if (skip_to > ring_.popped() && !skipping_) {
    if (playing_) {
      skipping_ = true;
      skip_fade_pos_ = 0;
    } else {
      discard_until(skip_to);  // nothing of it is playing: nothing to fade
    }
  }
  if (skipping_) {
    render_skip(left, right, frames, skip_to);
    return;
  }
  if (!playing_) {
    // Waiting for the fade-out tail too: a fade-in starts at zero, the tail may not be there yet.
    if (ring_.readable_frames() < config_.resume_frames || fade_out_pos_ < config_.fade_frames) {
      render_silence(left, right, frames);
      return;
    }
    playing_ = true;
    fade_in_pos_ = 0;
    playing_flag_.store(true, std::memory_order_relaxed);
  }
  const std::size_t got = ring_.pop({scratch_.data(), frames * AudioRing::kChannels});
  start_gain_ramp_if_needed();
  for (std::size_t i = 0; i < got; ++i) {
    const float g = next_gain() * next_fade_in();
    left[i] = scratch_[2 * i] * g;
    right[i] = scratch_[2 * i + 1] * g;
  }
  if (got > 0) last_ = {left[got - 1], right[got - 1]};
  if (got < frames) {
    underruns_.fetch_add(1, std::memory_order_relaxed);
    playing_ = false;
    playing_flag_.store(false, std::memory_order_relaxed);
    fade_out_pos_ = 0;
    render_silence(left + got, right + got, frames - got);
  }
}

// Plays the stale audio on with a linear fade to zero, then drops the rest of it and waits
// for resume_frames of the new audio, like a start from silence (with its fade-in).
void Playback::render_skip(float* left, float* right, std::size_t frames, std::uint64_t skip_to) CONTINUO_REALTIME {
  const std::uint64_t stale = skip_to - std::min(skip_to, ring_.popped());
  const std::size_t fade_left = config_.fade_frames - std::min(config_.fade_frames, skip_fade_pos_);
  const std::size_t wanted = static_cast<std::size_t>(std::min<std::uint64_t>({frames, stale, fade_left}));
  const std::size_t got = ring_.pop({scratch_.data(), wanted * AudioRing::kChannels});
  start_gain_ramp_if_needed();
  for (std::size_t i = 0; i < got; ++i) {
    ++skip_fade_pos_;
    const float k = 1.0f - static_cast<float>(skip_fade_pos_) / static_cast<float>(config_.fade_frames);
    const float g = next_gain() * next_fade_in() * k;
    left[i] = scratch_[2 * i] * g;
    right[i] = scratch_[2 * i + 1] * g;
  }
  if (got == frames) return;  // still fading
  // Faded out, or the stale audio ran out first: then its last sample decays as after an underrun.
  const bool faded = skip_fade_pos_ >= config_.fade_frames;
  if (got > 0) last_ = {left[got - 1], right[got - 1]};
  fade_out_pos_ = faded ? config_.fade_frames : 0;
  discard_until(skip_to);
  skipping_ = false;
  playing_ = false;
  playing_flag_.store(false, std::memory_order_relaxed);
  render_silence(left + got, right + got, frames - got);
}

// Bounded by what the generator had pushed when it asked: at most the lookahead, copied
// out in chunks (no allocation, no waiting).
void Playback::discard_until(std::uint64_t position) CONTINUO_REALTIME {
  while (ring_.popped() < position) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkFrames, position - ring_.popped()));
    if (ring_.pop({scratch_.data(), n * AudioRing::kChannels}) == 0) break;
  }
}

// Decays the last sample played to zero so a gap never starts with a step.
void Playback::render_silence(float* left, float* right, std::size_t frames) CONTINUO_REALTIME {
  for (std::size_t i = 0; i < frames; ++i) {
    if (fade_out_pos_ < config_.fade_frames) {
      ++fade_out_pos_;
      const float k = 1.0f - static_cast<float>(fade_out_pos_) / static_cast<float>(config_.fade_frames);
      left[i] = last_[0] * k;
      right[i] = last_[1] * k;
    } else {
      left[i] = 0.0f;
      right[i] = 0.0f;
    }
  }
}

void Playback::start_gain_ramp_if_needed() CONTINUO_REALTIME {
  // Derived here, not by the setters: two control threads setting volume and mute at once
  // can then never leave a stale combination behind.
  const float target = muted_.load(std::memory_order_relaxed) ? 0.0f : volume_gain_.load(std::memory_order_relaxed);
  if (target == ramp_target_) return;
  ramp_target_ = target;
  ramp_left_ = config_.gain_ramp_frames;
  if (ramp_left_ == 0) {
    gain_ = target;
    return;
  }
  ramp_step_ = (target - gain_) / static_cast<float>(ramp_left_);
}

// Linear ramp that lands exactly on its target, so steady gain is bit-exact.
float Playback::next_gain() CONTINUO_REALTIME {
  if (ramp_left_ > 0) {
    --ramp_left_;
    gain_ = ramp_left_ == 0 ? ramp_target_ : gain_ + ramp_step_;
  }
  return gain_;
}

float Playback::next_fade_in() CONTINUO_REALTIME {
  if (fade_in_pos_ >= config_.fade_frames) return 1.0f;
  return static_cast<float>(fade_in_pos_++) / static_cast<float>(config_.fade_frames);
}

}  // namespace continuo
