#include "model/mrt2_model.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "engine/log.hpp"
#include "model/conditioning.hpp"
#include "model/context_encoder.hpp"
#include "model/spectrostream_encoder.hpp"
#include "model/style_encoder.hpp"

namespace continuo::model {
namespace {

// Mixes the run's seed into the performer's live seed, so a restart with another
// model.seed differs even when the control seed stays put (splitmix64's finaliser).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double to_ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Encoded silence settles within a few frames of the encoder's receptive field; the codes of
// the middle of 16 frames are those of steady silence, as the official runner takes them.
constexpr int kSilenceFrames = 16;
// The decoder's convolutions remember only a few frames: this many silent frames leave its
// state as after a long silence.
constexpr int kCodecWarmupFrames = 4;
constexpr int kPrefillProgressEvery = 100;

std::optional<FrameCodes> find_silence(const ModelPackage& package, int prefill_frames) {
  if (prefill_frames == 0) return std::nullopt;
  if (!SpectroStreamEncoder::present(package)) {
    log_warn("model: the package has no SpectroStream encoder, so no silence codes to prefill with; "
             "starting without prefill");
    return std::nullopt;
  }
  SpectroStreamEncoder encoder(package);
  return silence_codes(encoder, kSilenceFrames);
}

// The device runtime for `backend`, or none (the CPU steps), logged in one line.
std::unique_ptr<DeviceRuntime> open_backend(const Depthformer& lm, ModelBackend backend) {
  if (backend == ModelBackend::cpu) {
    log_info("model: backend cpu (model.backend = \"cpu\")");
    return nullptr;
  }
  const CudaAvailability cuda = cuda_availability(lm.config());
  if (!cuda.unavailable.empty()) {
    if (backend == ModelBackend::cuda) throw BackendUnavailable("model.backend = \"cuda\", but " + cuda.unavailable);
    log_info("model: backend cpu (model.backend = \"auto\": ", cuda.unavailable, ")");
    return nullptr;
  }
  const char* setting = backend == ModelBackend::cuda ? "cuda" : "auto";
  std::unique_ptr<DeviceRuntime> device;
  try {
    device = make_cuda_runtime(lm);
  } catch (const std::runtime_error& error) {  // the upload failed: out of device memory, a lost device
    if (backend == ModelBackend::cuda) throw BackendUnavailable("model.backend = \"cuda\", but " + std::string(error.what()));
    log_warn("model: backend cpu (model.backend = \"auto\": uploading to ", cuda.device, " failed: ", error.what(), ")");
    return nullptr;
  }
  log_info("model: backend cuda on ", cuda.device, " (model.backend = \"", setting, "\")");
  return device;
}

// The decoder beside a device Depthformer, each frame and its decoding one graph; a failed
// upload leaves the decoder on the CPU, where it runs under every backend, with the reason.
std::unique_ptr<DeviceRuntime> attach_decoder(std::unique_ptr<DeviceRuntime> device, const SpectroStreamDecoder& codec) {
  if (!device) return device;
  try {
    device->attach_decoder(codec);
    log_info("model: the SpectroStream decoder runs on cuda too, in the frame's graph");
  } catch (const std::runtime_error& error) {
    log_warn("model: the SpectroStream decoder runs on the CPU (uploading it failed: ", error.what(), ")");
  }
  return device;
}

std::shared_ptr<AudioEncoder> open_audio_encoder(const ModelPackage& package) {
  if (!SpectroStreamEncoder::present(package)) return nullptr;
  return std::make_shared<ContextEncoder>(package.dir());
}

}  // namespace

Mrt2Model::Mrt2Model(const std::filesystem::path& dir, int prefill_frames, ModelBackend backend)
    : package_(ModelPackage::open(dir)),
      lm_(package_),
      codec_(package_),
      device_(attach_decoder(open_backend(lm_, backend), codec_)),
      prefill_frames_(prefill_frames),
      silence_(find_silence(package_, prefill_frames)),
      style_encoder_(load_style_encoder(package_, lm_.config())),
      audio_encoder_(open_audio_encoder(package_)),
      warmup_audio_(static_cast<std::size_t>(2 * codec_.frame_samples())) {
  const Manifest& m = package_.manifest();
  info_.name = m.name;
  info_.sample_rate = codec_.sample_rate();
  info_.channels = 2;
  info_.frame_samples = codec_.frame_samples();
  info_.latency_samples = codec_.latency_frames() * codec_.frame_samples();
  info_.identity = package_.fingerprint();
  info_.style_codebook = static_cast<int>(lm_.config().style_vocab) - lm_.config().conditioning_offset;
  info_.backend = device_ ? "cuda" : "cpu";
  log_info("model: ", m.name, " (", m.family, ") from ", dir.string(), ", ", info_.sample_rate, " Hz");
  log_info("model: licence ", m.licence, ": ", m.attribution);
}

void Mrt2Model::reset(std::uint64_t seed) {
  reset_runtimes();
  run_seed_ = mix(seed);
  prefill();
}

// As the official runner: silence codes teacher-forced through the temporal stack with all
// conditioning masked, so every window holds context before the first sampled frame.
void Mrt2Model::prefill() {
  if (!silence_) return;
  if (device_) {
    device_->prefill(masked_conditioning(), *silence_, prefill_frames_);  // the same steps, one graph each
  } else {
    for (int frame = 0; frame < prefill_frames_; ++frame) {
      feed_context(*silence_);
      if ((frame + 1) % kPrefillProgressEvery == 0) log_info("model: prefill ", frame + 1, "/", prefill_frames_, " frames");
    }
    lm_.set_previous(*silence_);
  }
  warm_codec(std::span<const FrameCodes>(&*silence_, 1));
}

// One frame of context: its codes teacher-forced through the temporal stack, conditioning
// masked, as the official runner's prefill_with_token_array. The device's prefill graph
// does the same for one frame (and leaves the codes as the previous frame's).
void Mrt2Model::feed_context(const FrameCodes& codes) {
  if (device_) {
    device_->prefill(masked_conditioning(), codes, 1);
    return;
  }
  lm_.encode(masked_conditioning());
  lm_.set_previous(codes);
  lm_.temporal_step();
}

// The decoder's convolutions remember a few frames: decoding the last frames of the context
// leaves them as after playing it, so the first generated frame joins it without a step.
void Mrt2Model::warm_codec(std::span<const FrameCodes> last_frames) {
  for (int frame = 0; frame < kCodecWarmupFrames; ++frame) {
    const int from_end = kCodecWarmupFrames - frame;
    const auto at = static_cast<std::ptrdiff_t>(last_frames.size()) - from_end;
    decode(last_frames[static_cast<std::size_t>(std::max<std::ptrdiff_t>(at, 0))], warmup_audio_);
  }
}

void Mrt2Model::decode(const FrameCodes& codes, std::span<float> out) {
  if (device_ && device_->decodes()) {
    device_->decode(codes, out);
  } else {
    codec_.decode(codes, out);
  }
}

void Mrt2Model::reset_runtimes() {
  lm_.reset();
  codec_.reset();
  if (device_) device_->reset();
}

std::vector<FrameCodes> Mrt2Model::context_frames(std::span<const int> tokens) const {
  const auto codebook = static_cast<int>(lm_.config().codebook);
  if (tokens.empty() || tokens.size() % kLmLevels != 0) {
    throw std::invalid_argument("a context is whole frames of " + std::to_string(kLmLevels) + " codes, got " +
                                std::to_string(tokens.size()));
  }
  std::vector<FrameCodes> frames(tokens.size() / kLmLevels);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= codebook) {
      throw std::invalid_argument("context code " + std::to_string(tokens[i]) + " outside 0.." +
                                  std::to_string(codebook - 1));
    }
    frames[i / kLmLevels][i % kLmLevels] = tokens[i];
  }
  return frames;
}

void Mrt2Model::reset_to_context(std::uint64_t seed, std::span<const int> tokens) {
  const std::vector<FrameCodes> context = context_frames(tokens);
  reset_runtimes();
  run_seed_ = mix(seed);
  const auto padding = static_cast<std::ptrdiff_t>(prefill_frames_) - static_cast<std::ptrdiff_t>(context.size());
  for (std::ptrdiff_t frame = 0; silence_ && frame < padding; ++frame) feed_context(*silence_);
  for (const FrameCodes& codes : context) feed_context(codes);
  lm_.set_previous(context.back());
  warm_codec(context);
}

// The CPU reports the Depthformer's encoder, temporal and depth stages and the codec; a device
// Depthformer's frame is one graph, one stage, and with the decoder attached so is the whole
// frame's.
void Mrt2Model::step(const ControlSnapshot& control, std::span<float> out) {
  SamplingParams params = sampling_from(control);
  params.seed ^= run_seed_;
  if (device_ && device_->decodes()) {
    const auto started = std::chrono::steady_clock::now();
    device_->step_and_decode(conditioning_from(control), params, out);
    stages_[0] = StageTime{"lm+codec", to_ms(std::chrono::steady_clock::now() - started)};
    stage_count_ = 1;
  } else {
    const FrameCodes codes = step_lm(conditioning_from(control), params);
    const auto decoding = std::chrono::steady_clock::now();
    codec_.decode(codes, out);
    stages_[stage_count_++] = StageTime{"codec", to_ms(std::chrono::steady_clock::now() - decoding)};
  }
  for (float& sample : out) sample = SpectroStreamDecoder::playback_sample(sample);
}

FrameCodes Mrt2Model::step_lm(const FrameConditioning& conditioning, const SamplingParams& params) {
  if (!device_) {
    const FrameCodes codes = lm_.step(conditioning, params);
    const auto lm_stages = lm_.last_step_stages();
    std::copy(lm_stages.begin(), lm_stages.end(), stages_.begin());
    stage_count_ = lm_stages.size();
    return codes;
  }
  const auto started = std::chrono::steady_clock::now();
  const FrameCodes codes = device_->step(conditioning, params);
  stages_[0] = StageTime{"lm", to_ms(std::chrono::steady_clock::now() - started)};
  stage_count_ = 1;
  return codes;
}

void register_packages(ModelRegistry& registry) {
  registry.add("package", "a model package directory (model.toml + safetensors): package:DIR, or just DIR",
               [](std::string_view dir, const ModelOptions& options) -> std::unique_ptr<Model> {
                 try {
                   return std::make_unique<Mrt2Model>(std::filesystem::path(dir), options.prefill_frames, options.backend);
                 } catch (const ModelError&) {
                   throw;
                 } catch (const std::exception& error) {
                   throw ModelError(error.what());
                 }
               });
}

}  // namespace continuo::model
