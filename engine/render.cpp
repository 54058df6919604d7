#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/app.hpp"
#include "engine/frame_source.hpp"
#include "engine/log.hpp"

namespace continuo {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Written beside the target and renamed at the end, so a failed render never leaves a
// truncated file where the user's previous render was.
std::string partial_path(const std::string& out_path) { return out_path + ".partial"; }

SndfilePtr open_wav(const std::string& path, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) throw std::runtime_error("cannot write '" + path + "': " + sf_strerror(nullptr));
  return file;
}

class Progress {
 public:
  explicit Progress(std::uint64_t total) : total_(total) {}
  void update(std::uint64_t done, int rate) {
    const int percent = static_cast<int>(100 * done / total_);
    if (percent < next_percent_ && done < total_) return;
    next_percent_ = percent + 10;
    log_info("render: ", percent, "% (", static_cast<double>(done) / rate, " s), ", realtime_factor(done, rate),
             "x real time");
  }
  double realtime_factor(std::uint64_t done, int rate) const {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return wall > 0.0 ? static_cast<double>(done) / rate / wall : 0.0;
  }

 private:
  std::uint64_t total_;
  int next_percent_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

void render_frames(FrameSource& source, SNDFILE* file, std::uint64_t total, int rate) {
  Progress progress(total);
  std::uint64_t written = 0;
  while (written < total) {
    const std::span<const float> frame = source.next_frame();
    const auto frames = std::min<std::uint64_t>(frame.size() / 2, total - written);
    if (sf_writef_float(file, frame.data(), static_cast<sf_count_t>(frames)) != static_cast<sf_count_t>(frames)) {
      throw std::runtime_error(std::string("write failed: ") + sf_strerror(file));
    }
    written += frames;
    progress.update(written, rate);
  }
}

}  // namespace

int render_offline(const Config& config, const ModelRegistry& registry, double seconds, const std::string& out_path) {
  const std::unique_ptr<Model> model = registry.load(config.model.spec, {config.model.prefill_frames});
  model->reset(config.model.seed);
  const int rate = config.render.sample_rate > 0 ? config.render.sample_rate : model->info().sample_rate;
  const auto total = static_cast<std::uint64_t>(std::llround(seconds * rate));
  ControlState control(config.control);
  FrameSource source(*model, control, rate, config.engine.resampler);
  const std::string partial = partial_path(out_path);
  try {
    SndfilePtr file = open_wav(partial, rate);
    log_info("render: ", seconds, " s of ", model->info().name, " at ", rate, " Hz to ", out_path);
    render_frames(source, file.get(), total, rate);
    if (sf_close(file.release()) != 0) throw std::runtime_error("cannot finish '" + partial + "'");
    std::filesystem::rename(partial, out_path);
  } catch (const std::exception& error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    log_error("render: ", error.what());
    return kExitFailure;
  }
  log_info("render: wrote ", out_path);
  return 0;
}

}  // namespace continuo
