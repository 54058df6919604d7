#pragma once

#include <sndfile.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config.hpp"

namespace continuo {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

AudioFormat audio_format_for(const std::string& path);  // ".flac" is flac, anything else wav
const char* audio_extension(AudioFormat format);        // ".wav" or ".flac"

// A stereo file for writing on fd (left open on close: the caller owns it, to fsync it);
// name is for errors only. The WAV header is rewritten after every write, so a process
// killed mid-take leaves a file whose header covers what it wrote. frames: the length when
// known; a WAV of unknown or over 4 GB length is RF64, downgraded to WAV while it fits
// (libsndfile then adds a PEAK chunk holding the time, so it is not byte-reproducible).
// Throws runtime_error.
SndfilePtr open_audio_fd(int fd, const std::string& name, int rate, AudioFormat format,
                         std::optional<std::uint64_t> frames);

// Writes total frames of interleaved stereo from next() (any block size; the last block is
// cut to fit) to out_path: through out_path.partial, renamed at the end, so a failure
// never leaves a truncated file where a previous one was. Logs progress every 10% as
// "<what>: 40% (12 s), 3.1x real time". Throws runtime_error.
void write_audio_file(const std::string& out_path, int rate, std::uint64_t total,
                      const std::function<std::span<const float>()>& next, std::string_view what);

// Audio read from a file: interleaved samples of `channels`, at `rate`.
struct AudioClip {
  std::vector<float> samples;
  int channels = 0;
  int rate = 0;
};

// Any file libsndfile reads (WAV, FLAC, Ogg, AIFF, ...), whole. Throws runtime_error naming
// the file when it cannot be read or lasts longer than max_seconds.
AudioClip read_audio_file(const std::string& path, double max_seconds);

}  // namespace continuo
