#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d.hpp"
#include "kernels/fft/fft.hpp"
#include "kernels/istft/istft.hpp"
#include "kernels/peak_phase/peak_phase.hpp"
#include "kernels/phase_accumulate/phase_accumulate.hpp"
#include "kernels/upsample2d/upsample2d.hpp"
#include "model/mrt2_types.hpp"
#include "model/package.hpp"
#include "model/spectrostream_config.hpp"
#include "model/streaming_conv.hpp"

namespace continuo::model {

// The SpectroStream decoder, streaming: one token frame of RVQ codes in, frame_samples()
// stereo samples out, as the official streaming step computes them
// (magenta_rt/jax/spectrostream.py: SpectroStream.codes_to_waveform_layer, run by
// system.py's MagentaRT2Sampler one frame per step). docs/spectrostream.md has the pipeline.
//
// Built from a ModelPackage's codec_* architecture keys and codec.* tensors; the package
// must outlive the decoder (weights are read in place from its mapped files). Every buffer
// and all streaming state are allocated at construction; decode() allocates nothing.
class SpectroStreamDecoder {
 public:
  // The official output is int16: round(32767.5 · clip(0.5·x, −1, 1) − 0.5)
  // (magenta_rt/jax/system.py: _float_samples_to_int16, gain 0.5 "to reduce clipping").
  static constexpr float kOutputGain = 0.5f;

  // Refuses (ModelFileError) a package whose codec_* keys are missing or inconsistent, or
  // whose codec.* tensors differ from what they imply, naming the first mismatch.
  explicit SpectroStreamDecoder(const ModelPackage& package);

  // Back to the official initial state: silence, the lookahead frame still to come.
  void reset();

  // Decodes one frame of per-level codes (each in [0, codebook)) into frame_samples()
  // interleaved stereo frames (L, R, L, R, …): the official float signal x before the
  // int16 conversion. What to play is playback_sample(x). out.size() must be
  // 2·frame_samples(). Streams: each call continues the previous ones.
  void decode(const FrameCodes& codes, std::span<float> interleaved_stereo_out);

  int frame_samples() const { return config_.frame_samples; }  // 1920 real, 64 tiny
  int sample_rate() const { return config_.sample_rate; }      // codec_sample_rate
  // Token frames between codes in and their audio out: the official decoder's lookahead
  // (sl.Lookahead): after reset() the first decode() returns silence.
  int latency_frames() const { return config_.lookahead; }
  std::chrono::nanoseconds last_decode_time() const { return last_decode_time_; }
  const SpectroStreamConfig& config() const { return config_; }

  // The level the engine plays: clip(0.5·x, −1, 1), the official int16 output's scale.
  static float playback_sample(float x);
  // The official int16 conversion, bit for bit.
  static std::int16_t to_int16(float x);

  using Conv = StreamingConv;
  struct Up {
    kernels::ConvTranspose2dShape shape;
    kernels::WeightView weight, bias;
    std::vector<float> overlap;
    void run(int group, const float* x, float* scratch, float* y);
  };
  // decoder_i: y = conv3x3(elu(up(elu(x)))) + upsample(skip(x) or x).
  struct Block {
    Up up;
    Conv conv;
    std::optional<Conv> skip;
    kernels::Upsample2dShape upsample;
    int groups = 1;
    std::size_t in_floats = 0;   // per group
    std::size_t out_floats = 0;  // per group
  };
  // The decoder's layers and sizes, read by its device twin (model/cuda/cuda_spectrostream.hpp)
  // so that the stack is built in one place.
  struct Layers {
    const kernels::WeightView& embedding;
    const Conv &proj, &b1, &b2, &res_a, &res_b, &output;
    const std::vector<Block>& blocks;
    const kernels::IstftShape& istft;
    const kernels::PhaseAccumulateShape& phase;  // run when config().phase_accumulate
    const kernels::PeakPhaseShape& peak;         // run when config().peak_phase
    std::size_t activation_floats;  // each of the four activation buffers
    std::size_t spectrum_floats;    // all groups' STFT frames
  };
  Layers layers() const;

  // The STFT frames the lookahead still silences after a reset (the official OverlapAdd
  // zeroes invalid frames), counted down decode by decode.
  struct LookaheadMask {
    int left = 0;
    static LookaheadMask after_reset(const SpectroStreamConfig& config) {
      return {config.lookahead * config.stft_frames()};
    }
    int take(int frames) {  // how many of this decode's first frames to zero
      const int masked = std::min(left, frames);
      left -= masked;
      return masked;
    }
  };

 private:
  void build_blocks();
  void input_stage(const FrameCodes& codes);
  void run_block(Block& block);
  void split_channels(std::size_t frame_pixels, int channels);
  void output_stage();

  const ModelPackage& package_;
  SpectroStreamConfig config_;
  kernels::WeightView embedding_;
  Conv proj_, b1_, b2_, res_a_, res_b_, output_;
  std::vector<Block> blocks_;
  std::vector<float> features_;
  std::vector<float> current_, next_, temp_a_, temp_b_, scratch_;  // activations: [group][t][f][c]
  std::vector<float> spectrum_;                                    // [audio channel][stft frame][bin][re, im]
  kernels::IstftShape istft_shape_;
  kernels::FftPlan fft_plan_;
  std::vector<float> window_, istft_overlap_, istft_scratch_;
  kernels::PhaseAccumulateShape phase_shape_;
  kernels::PeakPhaseShape peak_shape_;
  // [group][bin]: the phase_accumulate mode's running phases, or the peak_phase mode's locked ones
  std::vector<double> phase_;
  std::vector<float> peak_scratch_;
  LookaheadMask mask_;
  std::chrono::nanoseconds last_decode_time_{0};
};

}  // namespace continuo::model
