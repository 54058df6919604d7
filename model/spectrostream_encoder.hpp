#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <vector>

#include "kernels/avg_pool2d/avg_pool2d.hpp"
#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv2d_strided/conv2d_strided.hpp"
#include "kernels/fft/fft.hpp"
#include "kernels/rvq_decode/rvq_decode.hpp"
#include "kernels/stft/stft.hpp"
#include "model/mrt2_types.hpp"
#include "model/package.hpp"
#include "model/spectrostream_encoder_config.hpp"
#include "model/streaming_conv.hpp"

namespace continuo::model {

// The SpectroStream encoder, streaming: one token frame of stereo audio in, the 12 RVQ codes
// of a token frame out, as the official streaming step computes them
// (magenta_rt/jax/spectrostream.py: SpectroStream.waveform_to_codes_layer = stft → encoder →
// quantizer.embeddings_to_codes_layer). docs/spectrostream.md has the pipeline.
//
// Latency: one token frame. The official STFT is "reverse_causal": frame j covers samples
// [j·hop, j·hop + fft), so the last STFT frame of token frame t needs fft − hop samples of
// frame t + 1; the official step inserts sl.Delay frames before the time-strided blocks so
// that the call receiving token frame t emits the codes of token frame t − 1. The first call
// after reset() emits the official masked frame: all codes 0.
//
// Built from a ModelPackage's codec_* / codec_encoder_* keys and codec.encoder.* tensors plus
// the quantizer codebooks codec.rvq.embedding the decoder uses; the package must outlive the
// encoder. Every buffer and all streaming state are allocated at construction; encode()
// allocates nothing.
class SpectroStreamEncoder {
 public:
  // Whether the package holds an encoder (its codec_encoder_* keys); decoder-only packages
  // load without one.
  static bool present(const ModelPackage& package);

  // Refuses (ModelFileError) a package whose keys are missing or inconsistent, or whose
  // codec.encoder.* tensors differ from what they imply, naming the first mismatch.
  explicit SpectroStreamEncoder(const ModelPackage& package);

  // Back to the official initial state (zero history; the next call emits the masked frame).
  void reset();

  // Encodes one token frame: frame_samples() interleaved stereo frames (L, R, L, R, …) at
  // sample_rate(), full scale ±1. Returns the codes of the previous token frame (see above).
  FrameCodes encode(std::span<const float> interleaved_stereo);

  int frame_samples() const { return config_.codec.frame_samples; }  // 1920 real, 64 tiny
  int sample_rate() const { return config_.codec.sample_rate; }
  int latency_frames() const { return 1; }
  std::chrono::nanoseconds last_encode_time() const { return last_encode_time_; }
  const SpectroStreamEncoderConfig& config() const { return config_; }

  // The last call's intermediates, for parity tests: the STFT of the token frame encoded
  // [audio channel][stft frame][bin][re, im], and the encoder output before quantisation.
  std::span<const float> last_spectrum() const { return spectrum_; }
  std::span<const float> last_embedding() const { return embedding_; }

 private:
  using Conv = StreamingConv;
  struct Down {
    kernels::Conv2dStridedShape shape;
    kernels::WeightView weight, bias;
    std::vector<float> history;
    void run(int group, const float* x, float* scratch, float* y);
  };
  // encoder_i / bottleneck: y = down(elu(conv(elu(x)))) + skip(pool(x)), pool and skip
  // where the official has them.
  struct Block {
    Conv conv;
    Down down;
    std::optional<kernels::AvgPool2dShape> pool;
    std::optional<Conv> skip;
    int groups = 1;
    std::size_t in_floats = 0;   // per group
    std::size_t out_floats = 0;  // per group
  };

  Block make_block(const std::string& name, int block, int frames, int freq, int groups);
  void build_blocks();
  void run_block(Block& block);
  void merge_groups(std::size_t pixels, int channels);
  void output_stage();

  const ModelPackage& package_;
  SpectroStreamEncoderConfig config_;
  kernels::WeightView codebooks_;
  std::vector<float> norms_;
  kernels::StftShape stft_shape_;
  kernels::FftPlan fft_plan_;
  std::vector<float> window_, samples_, spectrum_;
  Conv input_, proj_, b1_, b2_;
  std::vector<Block> blocks_;  // encoder_0 … encoder_{n−1}, bottleneck
  std::vector<float> current_, next_, temp_a_, temp_b_, scratch_;  // activations: [group][t][f][c]
  std::vector<float> embedding_;
  bool primed_ = false;  // a token frame has been received since reset()
  std::chrono::nanoseconds last_encode_time_{0};
};

// The official silence tokens (MLX engine: ensure_silent_tokens, docs/mrt2-reference.md §7):
// from a reset encoder, encode `frames` frames of digital silence and return the codes of the
// middle one (frames / 2). Leaves the encoder reset. Deterministic.
FrameCodes silence_codes(SpectroStreamEncoder& encoder, int frames);

}  // namespace continuo::model
