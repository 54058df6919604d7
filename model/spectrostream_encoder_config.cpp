#include "model/spectrostream_encoder_config.hpp"

#include <string>
#include <string_view>

#include "model/architecture.hpp"

namespace continuo::model {
namespace {

void check(const ArchitectureReader& read, const SpectroStreamEncoderConfig& e) {
  const SpectroStreamConfig& c = e.codec;
  const auto require = [&](bool ok, std::string_view key, const std::string& problem) { read.require(ok, key, problem); };
  int freq_scale = 1;
  for (const auto& b : e.blocks) freq_scale *= b.freq_stride;
  require(!e.blocks.empty(), "codec_encoder_blocks", "must be at least 1");
  require(e.splits == 2 && c.channels == 4, "codec_encoder_splits",
          "only stereo with one channel group per audio channel (2 groups, codec_channels = 4) is implemented");
  require(e.merge_block <= static_cast<int>(e.blocks.size()), "codec_encoder_merge_block",
          "must name a block or the bottleneck (codec_encoder_blocks)");
  require(e.bins * freq_scale == c.bins, "codec_encoder_bins", "must be codec_bins over the frequency strides");
  require(e.stft_frames() == c.stft_frames(), "codec_encoder_blocks",
          "the encoder's time strides must cover the decoder's STFT frames per token frame");
  // One token frame of latency: the reverse-causal STFT's last frame of a token frame
  // reaches fft − hop samples into the next one.
  require(c.fft_size - c.hop <= c.frame_samples, "codec_fft_size",
          "an STFT frame reaching past the next token frame is not implemented");
}

}  // namespace

SpectroStreamEncoderConfig SpectroStreamEncoderConfig::from(const ModelPackage& package) {
  const ArchitectureReader read(package, "the SpectroStream encoder");
  SpectroStreamEncoderConfig e;
  e.codec = SpectroStreamConfig::from(package);
  e.base_kernel = read.get("codec_encoder_base_kernel");
  e.base_channels = read.get("codec_encoder_base_channels");
  const int blocks = read.get("codec_encoder_blocks");
  for (int i = 0; i < blocks; ++i) {
    const std::string key = "codec_encoder_block" + std::to_string(i);
    e.blocks.push_back({read.get(key + "_time_stride"), read.get(key + "_freq_stride"),
                        read.get(key + "_channels")});
  }
  e.splits = read.get("codec_encoder_splits");
  e.merge_block = read.get("codec_encoder_merge_block", 0);
  e.bins = read.get("codec_encoder_bins");
  check(read, e);
  return e;
}

int SpectroStreamEncoderConfig::stft_frames() const {
  int frames = 1;
  for (const auto& b : blocks) frames *= b.time_stride;
  return frames;
}

// The official encoder builds each block with its configured input channels; at the merge
// block that is the groups' channels concatenated.
int SpectroStreamEncoderConfig::input_channels(int block) const {
  const int previous = block == 0 ? base_channels : blocks[static_cast<std::size_t>(block - 1)].channels;
  return block == merge_block ? previous * splits : previous;
}

int SpectroStreamEncoderConfig::channels() const { return blocks.back().channels; }

bool SpectroStreamEncoderConfig::has_skip(int block) const {
  const int out =
      block < static_cast<int>(blocks.size()) ? blocks[static_cast<std::size_t>(block)].channels : channels();
  return input_channels(block) != out;
}

std::vector<TensorSpec> spectrostream_encoder_tensors(const SpectroStreamEncoderConfig& e) {
  using S = std::size_t;
  std::vector<TensorSpec> specs;
  auto conv = [&](const std::string& name, int kt, int kf, int cin, int cout) {
    specs.push_back({name + ".kernel", {S(kt), S(kf), S(cin), S(cout)}});
    specs.push_back({name + ".bias", {S(cout)}});
  };
  const int per_group_input = e.codec.channels / e.splits;
  conv("codec.encoder.input", e.base_kernel, e.base_kernel, per_group_input, e.base_channels);
  const int count = static_cast<int>(e.blocks.size());
  for (int i = 0; i < count; ++i) {
    const auto& b = e.blocks[static_cast<std::size_t>(i)];
    const std::string name = "codec.encoder.block" + std::to_string(i);
    const int cin = e.input_channels(i);
    conv(name + ".conv", 3, 3, cin, cin);
    conv(name + ".down", SpectroStreamConfig::resample_kernel(b.time_stride),
         SpectroStreamConfig::resample_kernel(b.freq_stride), cin, b.channels);
    if (e.has_skip(i)) conv(name + ".skip", 1, 1, cin, b.channels);
  }
  const int cin = e.input_channels(count);
  conv("codec.encoder.bottleneck.conv", 3, 3, cin, cin);
  conv("codec.encoder.bottleneck.conv_a", 3, 3, cin, e.channels());
  if (e.has_skip(count)) conv("codec.encoder.bottleneck.skip", 1, 1, cin, e.channels());
  const int flat = e.bins * e.channels();
  conv("codec.encoder.output.proj", 1, 1, flat, e.codec.features);
  conv("codec.encoder.output.b1", 1, 1, flat, flat);
  conv("codec.encoder.output.b2", 1, 1, flat, e.codec.features);
  return specs;
}

}  // namespace continuo::model
