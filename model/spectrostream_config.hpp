#pragma once

#include <vector>

#include "model/package.hpp"

namespace continuo::model {

// The SpectroStream decoder's hyper-parameters, the manifest's codec_* [architecture] keys
// (written by tools/mrt2_codec.py; docs/spectrostream.md lists them).
struct SpectroStreamConfig {
  struct Block {  // decoder_i, in decoder order
    int time_stride = 1;
    int freq_stride = 1;
    int channels = 0;  // output channels per group (all of them up to the split)
  };

  int sample_rate = 0;
  int levels = 0;    // RVQ levels decoded (the LM's 12)
  int codebook = 0;  // codes per level
  int features = 0;  // RVQ embedding width
  int input_bins = 0;
  int input_channels = 0;
  std::vector<Block> blocks;
  int splits = 1;        // channel groups sharing the weights after split_block
  int split_block = -1;  // the last block before the split
  int output_kernel = 0;
  int channels = 0;  // spectral output channels: (re, im) per audio channel
  int bins = 0;      // STFT bins (Nyquist dropped)
  int fft_size = 0;
  int hop = 0;
  int frame_samples = 0;  // per audio channel and token frame
  int lookahead = 0;      // token frames
  // codec_phase_accumulate (optional, 0 when absent; continuo's own mode, never official): the
  // output conv emits magnitudes and phase advances, integrated per bin by
  // kernels/phase_accumulate before the inverse STFT.
  bool phase_accumulate = false;
  // codec_peak_phase (optional, 0 when absent; continuo's own mode, never official): the output
  // conv's magnitudes only, the phases from their spectral peaks (kernels/peak_phase). At most
  // one of the two modes.
  bool peak_phase = false;

  // ModelFileError "<dir>/model.toml: architecture.<key>: <problem>" for a missing or
  // inconsistent key, or a structure this decoder does not implement.
  static SpectroStreamConfig from(const ModelPackage& package);

  int stft_frames() const;                    // STFT frames per token frame
  int groups_of(int block) const;             // channel groups `block` runs in (its input)
  int group_input_channels(int block) const;  // input channels each group of `block` sees
  bool has_skip(int block) const;             // the official shortcut has a 1×1 conv
  static int resample_kernel(int stride) { return stride < 2 ? 3 : 2 * stride; }  // max(3, 2s)
};

// Every codec.* tensor the decoder reads, with its shape, in a fixed order (for
// ModelPackage::check_tensors together with the other parts of a model).
std::vector<TensorSpec> spectrostream_tensors(const SpectroStreamConfig& config);

}  // namespace continuo::model
