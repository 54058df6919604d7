#include "engine/audio_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "engine/log.hpp"

namespace continuo {
namespace {

class Progress {
 public:
  Progress(std::uint64_t total, std::string_view what) : total_(total), what_(what) {}
  void update(std::uint64_t done, int rate) {
    const int percent = static_cast<int>(100 * done / total_);
    if (percent < next_percent_ && done < total_) return;
    next_percent_ = percent + 10;
    log_info(what_, ": ", percent, "% (", static_cast<double>(done) / rate, " s), ", realtime_factor(done, rate),
             "x real time");
  }
  double realtime_factor(std::uint64_t done, int rate) const {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return wall > 0.0 ? static_cast<double>(done) / rate / wall : 0.0;
  }

 private:
  std::uint64_t total_;
  std::string_view what_;
  int next_percent_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

AudioFormat audio_format_for(const std::string& path) {
  return std::filesystem::path(path).extension() == ".flac" ? AudioFormat::flac : AudioFormat::wav;
}

const char* audio_extension(AudioFormat format) { return format == AudioFormat::flac ? ".flac" : ".wav"; }

SndfilePtr open_audio_fd(int fd, const std::string& name, int rate, AudioFormat format,
                         std::optional<std::uint64_t> frames) {
  constexpr std::uint64_t kWavFrames = 0xFFFF0000ull / (2 * sizeof(float));  // a RIFF size is 32 bits
  const bool wav = frames && *frames < kWavFrames;
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = format == AudioFormat::flac ? (SF_FORMAT_FLAC | SF_FORMAT_PCM_24)
                                            : ((wav ? SF_FORMAT_WAV : SF_FORMAT_RF64) | SF_FORMAT_FLOAT);
  SndfilePtr file(sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE));
  if (!file) throw std::runtime_error("cannot write '" + name + "': " + sf_strerror(nullptr));
  // libsndfile's PEAK chunk carries the time of writing: without it the same audio is the
  // same file, byte for byte.
  sf_command(file.get(), SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  // A plain WAV while it fits in 4 GB, which every reader opens.
  sf_command(file.get(), SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
  sf_command(file.get(), SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
  return file;
}

void write_audio_file(const std::string& out_path, int rate, std::uint64_t total,
                      const std::function<std::span<const float>()>& next, std::string_view what) {
  const std::string partial = out_path + ".partial";
  try {
    const FdCloser fd{::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (fd.fd < 0) throw std::runtime_error("cannot write '" + partial + "': " + std::strerror(errno));
    SndfilePtr file = open_audio_fd(fd.fd, partial, rate, audio_format_for(out_path), total);
    Progress progress(total, what);
    std::uint64_t written = 0;
    while (written < total) {
      const std::span<const float> block = next();
      const auto frames = std::min<std::uint64_t>(block.size() / 2, total - written);
      if (sf_writef_float(file.get(), block.data(), static_cast<sf_count_t>(frames)) != static_cast<sf_count_t>(frames)) {
        throw std::runtime_error("cannot write '" + partial + "': " + sf_strerror(file.get()));
      }
      written += frames;
      progress.update(written, rate);
    }
    if (sf_close(file.release()) != 0) throw std::runtime_error("cannot finish '" + partial + "'");
    std::filesystem::rename(partial, out_path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw;
  }
}

AudioClip read_audio_file(const std::string& path, double max_seconds) {
  SF_INFO info{};
  const SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) throw std::runtime_error(path + ": not an audio file libsndfile reads: " + sf_strerror(nullptr));
  if (info.channels < 1 || info.samplerate < 1 || info.frames < 0) throw std::runtime_error(path + ": no audio in it");
  if (static_cast<double>(info.frames) > max_seconds * info.samplerate) {
    throw std::runtime_error(path + ": " + std::to_string(info.frames / info.samplerate) + " s long; at most " +
                             std::to_string(static_cast<int>(max_seconds)) + " s");
  }
  AudioClip clip{std::vector<float>(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels)),
                 info.channels, info.samplerate};
  const sf_count_t got = sf_readf_float(file.get(), clip.samples.data(), info.frames);
  clip.samples.resize(static_cast<std::size_t>(std::max<sf_count_t>(got, 0)) * static_cast<std::size_t>(info.channels));
  return clip;
}

}  // namespace continuo
