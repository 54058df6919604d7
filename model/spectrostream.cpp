#include "model/spectrostream.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/elu/elu.hpp"
#include "kernels/rvq_decode/rvq_decode.hpp"

namespace continuo::model {
namespace {

using kernels::Conv2dShape;
using kernels::ConvTranspose2dShape;

// The package's codec.* tensors must be exactly the ones the config implies.
void check_codec_tensors(const ModelPackage& package, const std::vector<TensorSpec>& expected) {
  const std::string dir = package.dir().string();
  for (const TensorSpec& spec : expected) {
    if (!package.contains(spec.name)) throw ModelFileError(dir + ": tensor '" + spec.name + "': missing");
    const Shape& shape = package.info(spec.name).shape;
    if (shape != spec.shape) {
      std::string want, have;
      for (std::size_t d : spec.shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
      for (std::size_t d : shape) have += (have.empty() ? "" : ", ") + std::to_string(d);
      throw ModelFileError(package.file_of(spec.name).path() + ": tensor '" + spec.name + "': expected [" + want +
                           "], file has [" + have + "]");
    }
  }
  for (const std::string& name : package.names()) {
    const bool expected_name =
        std::any_of(expected.begin(), expected.end(), [&](const TensorSpec& spec) { return spec.name == name; });
    // codec.encoder.* belongs to the optional SpectroStreamEncoder, which checks it.
    if (name.starts_with("codec.") && !name.starts_with("codec.encoder.") && !expected_name) {
      throw ModelFileError(package.file_of(name).path() + ": tensor '" + name +
                           "': not expected by this SpectroStream decoder (extra tensor)");
    }
  }
}

void add(std::size_t n, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace

void SpectroStreamDecoder::Up::run(int group, const float* x, float* scratch, float* y) {
  float* own = overlap.data() + static_cast<std::size_t>(group) * kernels::conv_transpose2d_overlap_size(shape);
  kernels::conv_transpose2d(shape, weight, bias, own, x, scratch, y);
}

SpectroStreamDecoder::SpectroStreamDecoder(const ModelPackage& package)
    : package_(package), config_(SpectroStreamConfig::from(package)) {
  check_codec_tensors(package, spectrostream_tensors(config_));
  const SpectroStreamConfig& c = config_;
  const int projected = c.input_bins * c.input_channels;
  embedding_ = package.view("codec.rvq.embedding");
  proj_ = Conv::load(package_, "codec.input.proj", {1, 1, c.features, projected, 1, 0, 1}, 1);
  b1_ = Conv::load(package_, "codec.input.b1", {1, 1, c.features, projected, 1, 0, 1}, 1);
  b2_ = Conv::load(package_, "codec.input.b2", {1, 1, projected, projected, 1, 0, 1}, 1);
  const Conv2dShape unit{3, 3, c.input_channels, c.input_channels, c.input_bins, 1, 1};
  res_a_ = Conv::load(package_, "codec.input.res_a", unit, 1);
  res_b_ = Conv::load(package_, "codec.input.res_b", unit, 1);
  build_blocks();
  const int frames = c.stft_frames();
  const int k = c.output_kernel;
  output_ = Conv::load(package_, "codec.output",
                      {k, k, c.blocks.back().channels, c.channels / c.splits, c.bins, (k - 1) / 2, frames}, c.splits);
  istft_shape_ = {c.fft_size, c.hop, c.splits, frames};
  fft_plan_ = kernels::make_fft_plan(c.fft_size);
  window_.resize(static_cast<std::size_t>(c.fft_size));
  kernels::istft_window(c.fft_size, c.hop, window_.data());
  istft_overlap_.resize(kernels::istft_overlap_size(istft_shape_));
  istft_scratch_.resize(kernels::istft_scratch_size(istft_shape_));
  phase_shape_ = {c.fft_size, c.splits, frames};
  peak_shape_ = {c.fft_size, c.splits, frames};
  if (c.phase_accumulate) phase_.resize(kernels::phase_accumulate_state_size(phase_shape_));
  if (c.peak_phase) {
    phase_.resize(kernels::peak_phase_state_size(peak_shape_));
    peak_scratch_.resize(kernels::peak_phase_scratch_size(peak_shape_));
  }
  features_.resize(static_cast<std::size_t>(c.features));
  spectrum_.resize(static_cast<std::size_t>(c.splits) * frames * c.fft_size);

  std::size_t floats = static_cast<std::size_t>(projected);
  std::size_t scratch = std::max(kernels::conv2d_scratch_size(unit), kernels::conv2d_scratch_size(output_.shape));
  for (const Block& b : blocks_) {
    floats = std::max({floats, b.in_floats * b.groups, b.out_floats * b.groups});
    scratch = std::max(
        {scratch, kernels::conv_transpose2d_scratch_size(b.up.shape), kernels::conv2d_scratch_size(b.conv.shape)});
  }
  for (auto* buffer : {&current_, &next_, &temp_a_, &temp_b_}) buffer->resize(floats);
  scratch_.resize(scratch);
  reset();
}

void SpectroStreamDecoder::build_blocks() {
  const SpectroStreamConfig& c = config_;
  int frames = 1;
  int freq = c.input_bins;
  for (int i = 0; i < static_cast<int>(c.blocks.size()); ++i) {
    const auto& spec = c.blocks[static_cast<std::size_t>(i)];
    const std::string name = "codec.block" + std::to_string(i);
    const int cin = c.group_input_channels(i);
    const int cout = spec.channels;
    const int groups = c.groups_of(i);
    const int kt = SpectroStreamConfig::resample_kernel(spec.time_stride);
    const int kf = SpectroStreamConfig::resample_kernel(spec.freq_stride);
    const ConvTranspose2dShape up{kt,
                                  kf,
                                  spec.time_stride,
                                  spec.freq_stride,
                                  cin,
                                  cout,
                                  freq,
                                  kernels::conv_transpose_same_pad(kf, spec.freq_stride),
                                  frames};
    Block block;
    block.up = {up, package_.view(name + ".up.kernel"), package_.view(name + ".up.bias"),
                std::vector<float>(kernels::conv_transpose2d_overlap_size(up) * static_cast<std::size_t>(groups))};
    const int out_frames = frames * spec.time_stride;
    const int out_freq = freq * spec.freq_stride;
    block.conv = Conv::load(package_, name + ".conv", {3, 3, cout, cout, out_freq, 1, out_frames}, groups);
    if (c.has_skip(i)) block.skip = Conv::load(package_, name + ".skip", {1, 1, cin, cout, freq, 0, frames}, groups);
    block.upsample = {frames, freq, cout, spec.time_stride, spec.freq_stride};
    block.groups = groups;
    block.in_floats = static_cast<std::size_t>(frames) * freq * cin;
    block.out_floats = static_cast<std::size_t>(out_frames) * out_freq * cout;
    blocks_.push_back(std::move(block));
    frames = out_frames;
    freq = out_freq;
  }
}

void SpectroStreamDecoder::reset() {
  for (Conv* conv : {&proj_, &b1_, &b2_, &res_a_, &res_b_, &output_}) conv->reset();
  for (Block& b : blocks_) {
    std::ranges::fill(b.up.overlap, 0.0f);
    b.conv.reset();
    if (b.skip) b.skip->reset();
  }
  std::ranges::fill(istft_overlap_, 0.0f);
  std::ranges::fill(phase_, 0.0);
  mask_ = LookaheadMask::after_reset(config_);
}

// Codes → RVQ sum → input_layer (1×1 projection plus its ELU-gated residual branch),
// reshaped for free to [input_bins, input_channels] → input_layers_residual_unit.
void SpectroStreamDecoder::input_stage(const FrameCodes& codes) {
  const SpectroStreamConfig& c = config_;
  kernels::rvq_decode({c.levels, c.codebook, c.features}, embedding_, codes.data(), features_.data());
  const auto projected = static_cast<std::size_t>(c.input_bins) * c.input_channels;
  float* x = current_.data();
  proj_.run(0, features_.data(), scratch_.data(), x);
  b1_.run(0, features_.data(), scratch_.data(), temp_a_.data());
  kernels::elu(projected, temp_a_.data(), temp_a_.data());
  b2_.run(0, temp_a_.data(), scratch_.data(), temp_b_.data());
  add(projected, temp_b_.data(), x);
  kernels::elu(projected, x, temp_a_.data());
  res_a_.run(0, temp_a_.data(), scratch_.data(), temp_b_.data());
  kernels::elu(projected, temp_b_.data(), temp_b_.data());
  res_b_.run(0, temp_b_.data(), scratch_.data(), temp_a_.data());
  add(projected, temp_a_.data(), x);
}

void SpectroStreamDecoder::run_block(Block& b) {
  for (int g = 0; g < b.groups; ++g) {
    const float* x = current_.data() + g * b.in_floats;
    float* y = next_.data() + g * b.out_floats;
    kernels::elu(b.in_floats, x, temp_a_.data());
    b.up.run(g, temp_a_.data(), scratch_.data(), temp_b_.data());
    kernels::elu(b.out_floats, temp_b_.data(), temp_b_.data());
    b.conv.run(g, temp_b_.data(), scratch_.data(), y);
    const float* shortcut = x;
    if (b.skip) {
      b.skip->run(g, x, scratch_.data(), temp_a_.data());
      shortcut = temp_a_.data();
    }
    kernels::upsample2d_add(b.upsample, shortcut, y);
  }
  std::swap(current_, next_);
}

// sl.ParallelChannels: group g takes channels [g·C/G, (g+1)·C/G) of every pixel; the groups
// then run one after the other, so each gets its own contiguous [t][f][c] block.
void SpectroStreamDecoder::split_channels(std::size_t pixels, int channels) {
  const auto per_group = static_cast<std::size_t>(channels / config_.splits);
  for (int g = 0; g < config_.splits; ++g) {
    for (std::size_t p = 0; p < pixels; ++p) {
      const float* src = current_.data() + p * channels + g * per_group;
      std::copy(src, src + per_group, next_.data() + (g * pixels + p) * per_group);
    }
  }
  std::swap(current_, next_);
}

// output_layer per group (ELU → base_conv_last: (re, im) of one audio channel), the
// lookahead's masked frames zeroed (the official OverlapAdd zeroes invalid frames), and in the
// phase_accumulate mode the heard frames' phase advances integrated, in the peak_phase mode
// their phases set from their magnitudes' peaks. The groups' spectra are
// contiguous: one [group, frame, bin, (re, im)] tensor, as the inverse STFT reads it.
void SpectroStreamDecoder::output_stage() {
  const std::size_t in_floats = blocks_.back().out_floats;
  const std::size_t spectrum_floats = spectrum_.size() / static_cast<std::size_t>(config_.splits);
  for (int g = 0; g < config_.splits; ++g) {
    kernels::elu(in_floats, current_.data() + g * in_floats, temp_a_.data());
    output_.run(g, temp_a_.data(), scratch_.data(), spectrum_.data() + g * spectrum_floats);
  }
  const int masked = mask_.take(istft_shape_.frames);
  for (int g = 0; g < config_.splits; ++g) {
    float* frames = spectrum_.data() + g * spectrum_floats;
    std::fill(frames, frames + static_cast<std::size_t>(masked) * config_.fft_size, 0.0f);
  }
  if (config_.phase_accumulate) kernels::phase_accumulate(phase_shape_, masked, phase_.data(), spectrum_.data());
  if (config_.peak_phase) kernels::peak_phase(peak_shape_, masked, phase_.data(), peak_scratch_.data(), spectrum_.data());
}

void SpectroStreamDecoder::decode(const FrameCodes& codes, std::span<float> out) {
  if (out.size() != 2 * static_cast<std::size_t>(frame_samples())) {
    throw std::invalid_argument("SpectroStreamDecoder::decode: output must hold 2 * frame_samples() floats");
  }
  const auto start = std::chrono::steady_clock::now();
  input_stage(codes);
  for (int i = 0; i < static_cast<int>(blocks_.size()); ++i) {
    run_block(blocks_[static_cast<std::size_t>(i)]);
    if (i == config_.split_block) {
      const Block& b = blocks_[static_cast<std::size_t>(i)];
      split_channels(b.out_floats / static_cast<std::size_t>(b.upsample.channels), b.upsample.channels);
    }
  }
  output_stage();
  kernels::istft(istft_shape_, fft_plan_, window_.data(), istft_overlap_.data(), spectrum_.data(),
                 istft_scratch_.data(), out.data());
  last_decode_time_ = std::chrono::steady_clock::now() - start;
}

SpectroStreamDecoder::Layers SpectroStreamDecoder::layers() const {
  return {embedding_, proj_, b1_, b2_, res_a_, res_b_, output_, blocks_, istft_shape_, phase_shape_, peak_shape_,
          current_.size(), spectrum_.size()};
}

float SpectroStreamDecoder::playback_sample(float x) { return std::clamp(kOutputGain * x, -1.0f, 1.0f); }

std::int16_t SpectroStreamDecoder::to_int16(float x) {
  // Two statements, so the compiler cannot fuse them into an FMA the official fp32 code
  // does not do; nearbyint rounds half to even, as jnp.round.
  const float scaled = 32767.5f * playback_sample(x);
  const float shifted = scaled - 0.5f;
  return static_cast<std::int16_t>(std::nearbyint(shifted));
}

}  // namespace continuo::model
