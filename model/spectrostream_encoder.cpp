#include "model/spectrostream_encoder.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/elu/elu.hpp"
#include "kernels/rvq_encode/rvq_encode.hpp"

namespace continuo::model {
namespace {

using kernels::Conv2dShape;
using kernels::Conv2dStridedShape;

// The package must hold exactly the expected codec.encoder.* tensors and the expected shared
// ones (the codebooks); every other tensor (decoder, Depthformer) is expected as it is, so the
// package-wide check names only the encoder's problems.
void check_encoder_tensors(const ModelPackage& package, std::vector<TensorSpec> expected) {
  const std::size_t own = expected.size();
  for (const std::string& name : package.names()) {
    const bool listed = std::any_of(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(own),
                                    [&](const TensorSpec& spec) { return spec.name == name; });
    if (!listed && !name.starts_with("codec.encoder.")) expected.push_back({name, package.info(name).shape});
  }
  package.check_tensors(expected);
}

void add(std::size_t n, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace

bool SpectroStreamEncoder::present(const ModelPackage& package) {
  return package.manifest().architecture.contains("codec_encoder_blocks");
}

void SpectroStreamEncoder::Down::run(int group, const float* x, float* scratch, float* y) {
  float* own = history.data() + static_cast<std::size_t>(group) * kernels::conv2d_strided_history_size(shape);
  kernels::conv2d_strided(shape, weight, bias, own, x, scratch, y);
}

SpectroStreamEncoder::SpectroStreamEncoder(const ModelPackage& package)
    : package_(package), config_(SpectroStreamEncoderConfig::from(package)) {
  const SpectroStreamConfig& c = config_.codec;
  std::vector<TensorSpec> expected = spectrostream_encoder_tensors(config_);
  expected.push_back({"codec.rvq.embedding",  // the decoder's codebooks, shared
                      {std::size_t(c.levels), std::size_t(c.codebook), std::size_t(c.features)}});
  check_encoder_tensors(package, std::move(expected));
  codebooks_ = package.view("codec.rvq.embedding");
  norms_.resize(static_cast<std::size_t>(c.levels) * c.codebook);
  kernels::rvq_codebook_norms({c.levels, c.codebook, c.features}, codebooks_, norms_.data());

  const int frames = config_.stft_frames();
  stft_shape_ = {c.fft_size, c.hop, 2, frames};
  fft_plan_ = kernels::make_fft_plan(c.fft_size);
  window_.resize(static_cast<std::size_t>(c.fft_size));
  kernels::hann_window(c.fft_size, window_.data());
  samples_.resize(4 * static_cast<std::size_t>(c.frame_samples));  // [previous | current] × stereo
  spectrum_.resize(2 * static_cast<std::size_t>(frames) * c.fft_size);

  const int k = config_.base_kernel;
  input_ = Conv::load(package_, "codec.encoder.input", {k, k, 2, config_.base_channels, c.bins, (k - 1) / 2, frames},
                     config_.splits);
  build_blocks();
  const int flat = config_.bins * config_.channels();
  proj_ = Conv::load(package_, "codec.encoder.output.proj", {1, 1, flat, c.features, 1, 0, 1}, 1);
  b1_ = Conv::load(package_, "codec.encoder.output.b1", {1, 1, flat, flat, 1, 0, 1}, 1);
  b2_ = Conv::load(package_, "codec.encoder.output.b2", {1, 1, flat, c.features, 1, 0, 1}, 1);
  embedding_.resize(static_cast<std::size_t>(c.features));

  std::size_t floats = static_cast<std::size_t>(config_.splits) * frames * c.bins * config_.base_channels;
  std::size_t scratch = kernels::conv2d_scratch_size(input_.shape);
  for (const Block& b : blocks_) {
    floats = std::max({floats, b.in_floats * b.groups, b.out_floats * b.groups});
    scratch = std::max({scratch, kernels::conv2d_scratch_size(b.conv.shape),
                        kernels::conv2d_strided_scratch_size(b.down.shape)});
    if (b.skip) scratch = std::max(scratch, kernels::conv2d_scratch_size(b.skip->shape));
  }
  scratch = std::max({scratch, kernels::stft_scratch_size(stft_shape_), kernels::conv2d_scratch_size(b1_.shape)});
  for (auto* buffer : {&current_, &next_, &temp_a_, &temp_b_}) buffer->resize(floats);
  scratch_.resize(scratch);
  reset();
}

// encoder_i: ELU → 3×3 conv (cin → cin) → ELU → strided conv (kernel max(3, 2·stride))
// plus the shortcut AvgPool(strides) → 1×1 conv where the channels change
// (spectrostream.py: conv2d_residual_unit, transposed=False). The bottleneck is the same
// unit at stride (1, 1): its second conv is 3×3 and there is no pooling.
SpectroStreamEncoder::Block SpectroStreamEncoder::make_block(const std::string& name, int block, int frames,
                                                             int freq, int groups) {
  const bool bottleneck = block == static_cast<int>(config_.blocks.size());
  const SpectroStreamEncoderConfig::Block spec =
      bottleneck ? SpectroStreamEncoderConfig::Block{1, 1, config_.channels()}
                 : config_.blocks[static_cast<std::size_t>(block)];
  const int cin = config_.input_channels(block);
  const int kt = SpectroStreamConfig::resample_kernel(spec.time_stride);
  const int kf = SpectroStreamConfig::resample_kernel(spec.freq_stride);
  const int pad = std::max(kf - spec.freq_stride, 0);  // spectrostream.py: conv2d
  const Conv2dStridedShape down{kt, kf, spec.time_stride, spec.freq_stride, cin, spec.channels, freq,
                                pad / 2, pad - pad / 2, frames};
  const int out_frames = frames / spec.time_stride;
  const int out_freq = kernels::conv2d_strided_out_freq(down);
  Block b;
  b.conv = Conv::load(package_, name + ".conv", {3, 3, cin, cin, freq, 1, frames}, groups);
  const std::string down_name = name + (bottleneck ? ".conv_a" : ".down");
  b.down = {down, package_.view(down_name + ".kernel"), package_.view(down_name + ".bias"),
            std::vector<float>(kernels::conv2d_strided_history_size(down) * static_cast<std::size_t>(groups))};
  if (spec.time_stride > 1 || spec.freq_stride > 1) {
    b.pool = kernels::AvgPool2dShape{frames, freq, cin, spec.time_stride, spec.freq_stride};
  }
  if (config_.has_skip(block)) {
    b.skip = Conv::load(package_, name + ".skip", {1, 1, cin, spec.channels, out_freq, 0, out_frames}, groups);
  }
  b.groups = groups;
  b.in_floats = static_cast<std::size_t>(frames) * freq * cin;
  b.out_floats = static_cast<std::size_t>(out_frames) * out_freq * spec.channels;
  return b;
}

void SpectroStreamEncoder::build_blocks() {
  int frames = config_.stft_frames();
  int freq = config_.codec.bins;
  const int count = static_cast<int>(config_.blocks.size());
  for (int i = 0; i <= count; ++i) {
    const std::string name = i < count ? "codec.encoder.block" + std::to_string(i) : "codec.encoder.bottleneck";
    blocks_.push_back(make_block(name, i, frames, freq, i < config_.merge_block ? config_.splits : 1));
    frames = blocks_.back().down.shape.frames / blocks_.back().down.shape.st;
    freq = kernels::conv2d_strided_out_freq(blocks_.back().down.shape);
  }
}

void SpectroStreamEncoder::reset() {
  for (Conv* conv : {&input_, &proj_, &b1_, &b2_}) conv->reset();
  for (Block& b : blocks_) {
    b.conv.reset();
    std::ranges::fill(b.down.history, 0.0f);
    if (b.skip) b.skip->reset();
  }
  std::ranges::fill(samples_, 0.0f);
  std::ranges::fill(spectrum_, 0.0f);
  std::ranges::fill(embedding_, 0.0f);
  primed_ = false;
}

void SpectroStreamEncoder::run_block(Block& b) {
  for (int g = 0; g < b.groups; ++g) {
    const float* x = current_.data() + g * b.in_floats;
    float* y = next_.data() + g * b.out_floats;
    kernels::elu(b.in_floats, x, temp_a_.data());
    b.conv.run(g, temp_a_.data(), scratch_.data(), temp_b_.data());
    kernels::elu(b.in_floats, temp_b_.data(), temp_b_.data());
    b.down.run(g, temp_b_.data(), scratch_.data(), y);
    const float* shortcut = x;
    if (b.pool) {
      kernels::avg_pool2d(*b.pool, x, temp_a_.data());
      shortcut = temp_a_.data();
    }
    if (b.skip) {
      b.skip->run(g, shortcut, scratch_.data(), temp_b_.data());
      shortcut = temp_b_.data();
    }
    add(b.out_floats, shortcut, y);
  }
  std::swap(current_, next_);
}

// sl.ParallelChannels' CONCAT: pixel p of the merged activation holds group 0's channels,
// then group 1's.
void SpectroStreamEncoder::merge_groups(std::size_t pixels, int channels) {
  const auto per_group = static_cast<std::size_t>(channels);
  for (int g = 0; g < config_.splits; ++g) {
    for (std::size_t p = 0; p < pixels; ++p) {
      const float* src = current_.data() + (g * pixels + p) * per_group;
      std::copy(src, src + per_group, next_.data() + (p * config_.splits + g) * per_group);
    }
  }
  std::swap(current_, next_);
}

// output_convs: Flatten → proj(x) + b2(ELU(b1(ELU(x)))), 1×1 convs over bins·channels.
void SpectroStreamEncoder::output_stage() {
  const auto flat = static_cast<std::size_t>(config_.bins) * config_.channels();
  proj_.run(0, current_.data(), scratch_.data(), embedding_.data());
  kernels::elu(flat, current_.data(), temp_a_.data());
  b1_.run(0, temp_a_.data(), scratch_.data(), temp_b_.data());
  kernels::elu(flat, temp_b_.data(), temp_b_.data());
  b2_.run(0, temp_b_.data(), scratch_.data(), temp_a_.data());
  add(embedding_.size(), temp_a_.data(), embedding_.data());
}

FrameCodes SpectroStreamEncoder::encode(std::span<const float> in) {
  const auto frame_floats = 2 * static_cast<std::size_t>(frame_samples());
  if (in.size() != frame_floats) {
    throw std::invalid_argument("SpectroStreamEncoder::encode: input must hold 2 * frame_samples() floats");
  }
  const auto start = std::chrono::steady_clock::now();
  std::ranges::copy(in, samples_.begin() + static_cast<std::ptrdiff_t>(frame_floats));
  FrameCodes codes{};
  if (primed_) {  // the previous token frame is complete: its STFT reaches into this one
    const SpectroStreamConfig& c = config_.codec;
    kernels::stft(stft_shape_, fft_plan_, window_.data(), samples_.data(), scratch_.data(), spectrum_.data());
    // Group g = audio channel g: its (re, im) spectrogram, as sl.ParallelChannels splits the
    // official 4 STFT channels (L re, L im, R re, R im).
    const std::size_t group_in = spectrum_.size() / 2;
    const std::size_t group_out = static_cast<std::size_t>(stft_shape_.frames) * c.bins * config_.base_channels;
    for (int g = 0; g < config_.splits; ++g) {
      input_.run(g, spectrum_.data() + g * group_in, scratch_.data(), current_.data() + g * group_out);
    }
    for (int i = 0; i < static_cast<int>(blocks_.size()); ++i) {
      Block& b = blocks_[static_cast<std::size_t>(i)];
      const int merged = config_.input_channels(i);
      if (i == config_.merge_block) merge_groups(b.in_floats / merged, merged / config_.splits);
      run_block(b);
    }
    output_stage();
    std::vector<float>& residual = temp_a_;
    std::ranges::copy(embedding_, residual.begin());
    kernels::rvq_encode({c.levels, c.codebook, c.features}, codebooks_, norms_.data(), residual.data(), codes.data());
  }
  std::copy(samples_.begin() + static_cast<std::ptrdiff_t>(frame_floats), samples_.end(), samples_.begin());
  primed_ = true;
  last_encode_time_ = std::chrono::steady_clock::now() - start;
  return codes;
}

FrameCodes silence_codes(SpectroStreamEncoder& encoder, int frames) {
  if (frames < 2) throw std::invalid_argument("silence_codes: needs at least 2 frames");
  const std::vector<float> silence(2 * static_cast<std::size_t>(encoder.frame_samples()), 0.0f);
  encoder.reset();
  FrameCodes middle{};
  // Call k returns the codes of token frame k − 1 (one frame of latency), so frame frames/2
  // comes from call frames/2 + 1; its STFT reaches into the next frame, silent as well (the
  // official end padding is zeros too).
  for (int k = 0; k <= frames / 2 + 1; ++k) middle = encoder.encode(silence);
  encoder.reset();
  return middle;
}

}  // namespace continuo::model
