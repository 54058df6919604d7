#pragma once

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "kernels/fft/fft.hpp"

namespace continuo {

// What visuals get for one generated frame (docs/osc.md, /continuo/analysis).
struct AnalysisFrame {
  float loudness_db = -120.0f;  // RMS of the frame's mono mix in dBFS, floored at -120
  float onset = 0.0f;           // positive spectral flux / the spectrum's magnitude, 0..1
  float centroid_hz = 0.0f;     // magnitude-weighted mean frequency; 0 for silence
  std::array<float, 12> chroma{};  // energy per pitch class C, C#, …, B, the largest = 1; all 0 for silence
};

// Features of the audio the generator pushes, on the generator thread. Allocates only in
// its constructor: the window, spectra and the bin → pitch-class table are sized there.
// The spectrum is a Hann-windowed FFT of the last fft_size mono samples seen (so a frame
// shorter than the window is analysed with the end of the one before).
class Analyser {
 public:
  explicit Analyser(int sample_rate, int fft_size = 4096);

  // frame: interleaved stereo. rate: its sample rate (the table is rebuilt when it changes).
  AnalysisFrame analyse(std::span<const float> frame, int rate);

  // The frame goes by unanalysed (nobody listens): only its samples join the history, no
  // FFT. The next analyse() first rebuilds the spectrum the flux compares with, so its
  // result is the same as if every frame had been analysed.
  void skip(std::span<const float> frame, int rate);

  int fft_size() const { return n_; }
  std::uint64_t spectra() const { return spectra_; }  // FFTs computed so far

 private:
  void set_rate(int rate);
  double add_to_history(std::span<const float> frame);  // the frame's mono mix; its sum of squares
  void spectrum();  // magnitude_ of the windowed history

  int n_;
  int rate_ = 0;
  kernels::FftPlan plan_;
  std::vector<float> window_;
  std::vector<float> history_;  // the last n_ mono samples, oldest first
  std::vector<std::complex<float>> in_;
  std::vector<std::complex<float>> out_;
  std::vector<float> magnitude_;
  std::vector<float> previous_;  // the last frame's magnitudes, for the flux
  std::vector<std::int8_t> pitch_class_;  // per bin, -1 outside the chroma range
  bool previous_stale_ = false;  // frames were skipped since previous_ was computed
  std::uint64_t spectra_ = 0;
};

// Analysed frames waiting to be heard: the generator adds each with the ring position of
// its first sample; the main loop takes those the audio thread has read past. Fixed
// capacity, no allocation after construction; when full the oldest are dropped (nobody
// took them, so nobody misses them).
class AnalysisQueue {
 public:
  static constexpr std::size_t kCapacity = 256;

  AnalysisQueue() : entries_(kCapacity) {}

  void push(const AnalysisFrame& frame, std::uint64_t start);
  // Moves up to out.size() frames whose start < read into out, oldest first; the count.
  std::size_t take_heard(std::uint64_t read, std::span<AnalysisFrame> out);
  // Forgets the frames starting after `after`: a reset dropped them unheard.
  void drop_after(std::uint64_t after);
  std::size_t size() const;

 private:
  struct Entry {
    AnalysisFrame frame;
    std::uint64_t start = 0;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::size_t head_ = 0;   // oldest
  std::size_t count_ = 0;
};

}  // namespace continuo
