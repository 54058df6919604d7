#pragma once

#include <vector>

#include "model/package.hpp"
#include "model/spectrostream_config.hpp"

namespace continuo::model {

// The SpectroStream encoder's hyper-parameters: the manifest's codec_encoder_* keys (written
// by tools/mrt2_codec.py when the official encoder is converted) plus the STFT, RVQ and
// sample-rate keys it shares with the decoder (SpectroStreamConfig).
struct SpectroStreamEncoderConfig {
  struct Block {  // encoder_i
    int time_stride = 1;
    int freq_stride = 1;
    int channels = 0;  // output channels (per group before the merge)
  };

  SpectroStreamConfig codec;  // the shared keys, validated as the decoder does
  int base_kernel = 0;        // base_conv_first: k × k
  int base_channels = 0;
  std::vector<Block> blocks;
  int splits = 1;       // channel groups (one per audio channel) sharing the weights …
  int merge_block = 0;  // … up to this block (blocks.size() = the bottleneck), then concatenated
  int bins = 0;         // frequency bins after the blocks

  // ModelFileError "<dir>/model.toml: architecture.<key>: <problem>" for a missing or
  // inconsistent key, or a structure this encoder does not implement.
  static SpectroStreamEncoderConfig from(const ModelPackage& package);

  int stft_frames() const;                 // STFT frames per token frame = Π time strides
  int input_channels(int block) const;     // input channels of block (blocks.size(): bottleneck), per group
  int channels() const;                    // bottleneck channels
  bool has_skip(int block) const;          // the official shortcut has a 1×1 conv
};

// Every codec.encoder.* tensor the encoder reads, with its shape, in a fixed order.
std::vector<TensorSpec> spectrostream_encoder_tensors(const SpectroStreamEncoderConfig& config);

}  // namespace continuo::model
