#include "model/spectrostream_config.hpp"

#include <string>
#include <string_view>

#include "model/architecture.hpp"
#include "model/mrt2_types.hpp"

namespace continuo::model {
namespace {

void check(const ArchitectureReader& read, SpectroStreamConfig& c) {
  int freq_scale = 1;
  for (const auto& b : c.blocks) freq_scale *= b.freq_stride;
  const auto require = [&](bool ok, std::string_view key, const std::string& problem) { read.require(ok, key, problem); };
  for (const auto& b : c.blocks) {
    require(b.time_stride > 1 || b.freq_stride > 1, "codec_blocks", "a block with stride (1, 1) is not implemented");
  }
  require(c.bins == c.input_bins * freq_scale, "codec_bins", "must be codec_input_bins times the frequency strides");
  require(c.fft_size == 2 * c.bins, "codec_fft_size", "must be 2 · codec_bins (Nyquist bin dropped)");
  require(c.hop <= c.fft_size, "codec_hop", "must not exceed codec_fft_size");
  require(c.frame_samples == c.stft_frames() * c.hop, "codec_frame_samples",
          "must be the time strides' product times codec_hop");
  require(c.split_block < static_cast<int>(c.blocks.size()) - 1 && (c.splits == 1) == (c.split_block < 0),
          "codec_split_block", "must name a block before the last one when codec_splits > 1, else -1");
  require(c.channels == 2 * c.splits && c.splits == 2, "codec_channels",
          "only stereo with one channel group per audio channel (codec_splits = 2, codec_channels = 4) is implemented");
  require(c.blocks[static_cast<std::size_t>(c.split_block)].channels % c.splits == 0, "codec_splits",
          "must divide the split block's channels");
}

}  // namespace

SpectroStreamConfig SpectroStreamConfig::from(const ModelPackage& package) {
  const ArchitectureReader read(package, "the SpectroStream decoder");
  SpectroStreamConfig c;
  c.sample_rate = read.get("codec_sample_rate");
  c.levels = read.get("codec_levels");
  c.codebook = read.get("codec_codebook");
  c.features = read.get("codec_features");
  c.input_bins = read.get("codec_input_bins");
  c.input_channels = read.get("codec_input_channels");
  const int blocks = read.get("codec_blocks");
  for (int i = 0; i < blocks; ++i) {
    const std::string key = "codec_block" + std::to_string(i);
    c.blocks.push_back({read.get(key + "_time_stride"), read.get(key + "_freq_stride"), read.get(key + "_channels")});
  }
  c.splits = read.get("codec_splits");
  c.split_block = read.get("codec_split_block", -1);
  c.output_kernel = read.get("codec_output_kernel");
  c.channels = read.get("codec_channels");
  c.bins = read.get("codec_bins");
  c.fft_size = read.get("codec_fft_size");
  c.hop = read.get("codec_hop");
  c.frame_samples = read.get("codec_frame_samples");
  c.lookahead = read.get("codec_lookahead", 0);
  c.phase_accumulate = read.flag("codec_phase_accumulate");
  c.peak_phase = read.flag("codec_peak_phase");
  if (c.phase_accumulate && c.peak_phase) {
    read.fail("codec_peak_phase", "cannot be 1 with codec_phase_accumulate = 1 (one output mode at most)");
  }
  if (c.levels != kLmLevels) read.fail("codec_levels", "must be " + std::to_string(kLmLevels) + " (the LM's levels)");
  check(read, c);
  return c;
}

int SpectroStreamConfig::stft_frames() const {
  int frames = 1;
  for (const auto& b : blocks) frames *= b.time_stride;
  return frames;
}

int SpectroStreamConfig::groups_of(int block) const { return split_block >= 0 && block > split_block ? splits : 1; }

int SpectroStreamConfig::group_input_channels(int block) const {
  if (block == 0) return input_channels;
  const int previous = blocks[static_cast<std::size_t>(block - 1)].channels;
  return block - 1 == split_block ? previous / splits : previous;
}

// The official conv2d_residual_unit adds the 1×1 conv when its configured input and output
// channels differ; right after the split the configured input is the pre-split total.
bool SpectroStreamConfig::has_skip(int block) const {
  const int configured_in = block == 0 ? input_channels : blocks[static_cast<std::size_t>(block - 1)].channels;
  return configured_in != blocks[static_cast<std::size_t>(block)].channels;
}

std::vector<TensorSpec> spectrostream_tensors(const SpectroStreamConfig& c) {
  using S = std::size_t;
  std::vector<TensorSpec> specs;
  auto conv = [&](const std::string& name, int kt, int kf, int cin, int cout) {
    specs.push_back({name + ".kernel", {S(kt), S(kf), S(cin), S(cout)}});
    specs.push_back({name + ".bias", {S(cout)}});
  };
  const int projected = c.input_bins * c.input_channels;
  specs.push_back({"codec.rvq.embedding", {S(c.levels), S(c.codebook), S(c.features)}});
  conv("codec.input.proj", 1, 1, c.features, projected);
  conv("codec.input.b1", 1, 1, c.features, projected);
  conv("codec.input.b2", 1, 1, projected, projected);
  conv("codec.input.res_a", 3, 3, c.input_channels, c.input_channels);
  conv("codec.input.res_b", 3, 3, c.input_channels, c.input_channels);
  for (int i = 0; i < static_cast<int>(c.blocks.size()); ++i) {
    const auto& b = c.blocks[static_cast<std::size_t>(i)];
    const std::string name = "codec.block" + std::to_string(i);
    const int cin = c.group_input_channels(i);
    conv(name + ".up", SpectroStreamConfig::resample_kernel(b.time_stride),
         SpectroStreamConfig::resample_kernel(b.freq_stride), cin, b.channels);
    conv(name + ".conv", 3, 3, b.channels, b.channels);
    if (c.has_skip(i)) conv(name + ".skip", 1, 1, cin, b.channels);
  }
  conv("codec.output", c.output_kernel, c.output_kernel, c.blocks.back().channels, c.channels / c.splits);
  return specs;
}

}  // namespace continuo::model
