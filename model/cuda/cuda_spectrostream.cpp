#include "model/cuda/cuda_spectrostream.hpp"

#include <algorithm>
#include <complex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "kernels/conv2d/conv2d_cuda.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d_cuda.hpp"
#include "kernels/elu/elu_cuda.hpp"
#include "kernels/fft/fft_cuda.hpp"
#include "kernels/istft/istft_cuda.hpp"
#include "kernels/peak_phase/peak_phase_cuda.hpp"
#include "kernels/phase_accumulate/phase_accumulate_cuda.hpp"
#include "kernels/rvq_decode/rvq_decode_cuda.hpp"
#include "kernels/upsample2d/upsample2d_cuda.hpp"
#include "model/cuda/cuda_layers.hpp"
#include "model/cuda/frame_ops_cuda.hpp"
#include "model/cuda/graph_stream.hpp"

namespace continuo::model::cuda {
namespace {

using Host = SpectroStreamDecoder;

// What the host stages per frame; the frame's first node copies it to the device.
struct DecodeControl {
  std::int32_t codes[kLmLevels] = {};
  std::int32_t masked_frames = 0;  // leading STFT frames the lookahead zeroes
};

template <typename T>
void clear(cudaStream_t stream, const kc::DeviceBuffer<T>& buffer) {
  if (buffer.size() != 0) CONTINUO_CUDA_CHECK(cudaMemsetAsync(buffer.data(), 0, buffer.bytes(), stream));
}

// StreamingConv's twin: the weights on the device, one history per channel group.
struct DeviceConv {
  kernels::Conv2dShape shape;
  kc::DeviceWeightView weight, bias;
  kc::DeviceBuffer<float> history;

  DeviceConv(const Host::Conv& host, DeviceWeights& store)
      : shape(host.shape), weight(store.upload(host.weight)), bias(store.upload(host.bias)), history(host.history.size()) {}
  void run(cudaStream_t stream, int group, const float* x, float* scratch, float* y) const {
    kc::conv2d(stream, shape, weight, bias, history.data() + group * kernels::conv2d_history_size(shape), x, scratch, y);
  }
  std::size_t scratch_floats() const { return kc::conv2d_cuda_scratch_size(shape); }
};

// Host::Up's twin: one overlap (open output frames) per channel group.
struct DeviceUp {
  kernels::ConvTranspose2dShape shape;
  kc::DeviceWeightView weight, bias;
  kc::DeviceBuffer<float> overlap;

  DeviceUp(const Host::Up& host, DeviceWeights& store)
      : shape(host.shape), weight(store.upload(host.weight)), bias(store.upload(host.bias)), overlap(host.overlap.size()) {}
  void run(cudaStream_t stream, int group, const float* x, float* scratch, float* y) const {
    kc::conv_transpose2d(stream, shape, weight, bias,
                         overlap.data() + group * kernels::conv_transpose2d_overlap_size(shape), x, scratch, y);
  }
  std::size_t scratch_floats() const { return kc::conv_transpose2d_cuda_scratch_size(shape); }
};

struct DeviceBlock {
  DeviceUp up;
  DeviceConv conv;
  std::optional<DeviceConv> skip;
  const Host::Block& host;  // shapes and sizes

  DeviceBlock(const Host::Block& block, DeviceWeights& store)
      : up(block.up, store), conv(block.conv, store), host(block) {
    if (block.skip) skip.emplace(*block.skip, store);
  }
};

}  // namespace

struct CudaSpectroStreamDecoder::Device {
  explicit Device(const Host& cpu);
  void enqueue_frame(const std::uint32_t* device_codes);
  void input_stage();
  void run_block(const DeviceBlock& block);
  void split_channels(std::size_t pixels, int channels);
  void output_stage();
  std::vector<kc::DeviceBuffer<float>*> state();

  const Host& host;
  const SpectroStreamConfig& config;
  DeviceWeights weights;
  kc::DeviceWeightView embedding;
  std::vector<DeviceConv> input;  // proj, b1, b2, res_a, res_b
  std::vector<DeviceBlock> blocks;
  std::optional<DeviceConv> output;
  kernels::IstftShape istft_shape;
  kc::DeviceBuffer<std::complex<float>> twiddles;
  kc::DeviceFftPlan fft_plan;
  kc::DeviceBuffer<float> window, istft_overlap, istft_scratch;
  kc::DeviceBuffer<float> features, current, next, temp_a, temp_b, scratch, spectrum, samples;
  kernels::PhaseAccumulateShape phase_shape;
  kernels::PeakPhaseShape peak_shape;
  kc::DeviceBuffer<double> phase;  // the phase_accumulate or peak_phase mode's phases (empty in neither)
  kc::DeviceBuffer<DecodeControl> control;
  Pinned<DecodeControl> staged_control;
  Pinned<float> staged_samples;
  Host::LookaheadMask mask;

  Stream owned_stream;
  cudaStream_t stream = nullptr;  // owned_stream's
  GraphExec frame_graph;
};

namespace {

std::vector<float> istft_window(const SpectroStreamConfig& c) {
  std::vector<float> window(static_cast<std::size_t>(c.fft_size));
  kernels::istft_window(c.fft_size, c.hop, window.data());
  return window;
}

}  // namespace

CudaSpectroStreamDecoder::Device::Device(const Host& cpu)
    : host(cpu),
      config(cpu.config()),
      istft_shape(cpu.layers().istft),
      twiddles(static_cast<std::size_t>(cpu.config().fft_size)),
      window(static_cast<std::size_t>(cpu.config().fft_size)),
      istft_overlap(kernels::istft_overlap_size(istft_shape)),
      istft_scratch(kc::istft_cuda_scratch_size(istft_shape)),
      features(static_cast<std::size_t>(cpu.config().features)),
      current(cpu.layers().activation_floats),
      next(cpu.layers().activation_floats),
      temp_a(cpu.layers().activation_floats),
      temp_b(cpu.layers().activation_floats),
      spectrum(cpu.layers().spectrum_floats),
      samples(2 * static_cast<std::size_t>(cpu.frame_samples())),
      phase_shape(cpu.layers().phase),
      peak_shape(cpu.layers().peak),
      phase(cpu.config().phase_accumulate ? kernels::phase_accumulate_state_size(phase_shape)
            : cpu.config().peak_phase    ? kernels::peak_phase_state_size(peak_shape)
                                         : 0),
      control(1),
      staged_samples(2 * static_cast<std::size_t>(cpu.frame_samples())) {
  const Host::Layers layers = host.layers();
  embedding = weights.upload(layers.embedding);
  for (const Host::Conv* conv : {&layers.proj, &layers.b1, &layers.b2, &layers.res_a, &layers.res_b}) {
    input.emplace_back(*conv, weights);
  }
  for (const Host::Block& block : layers.blocks) blocks.emplace_back(block, weights);
  output.emplace(layers.output, weights);
  std::size_t scratch_floats = output->scratch_floats();
  for (const DeviceConv& conv : input) scratch_floats = std::max(scratch_floats, conv.scratch_floats());
  for (const DeviceBlock& b : blocks) {
    scratch_floats = std::max({scratch_floats, b.up.scratch_floats(), b.conv.scratch_floats(),
                               b.skip ? b.skip->scratch_floats() : 0});
  }
  scratch = kc::DeviceBuffer<float>(std::max<std::size_t>(scratch_floats, 1));
  const kernels::FftPlan plan = kernels::make_fft_plan(config.fft_size);
  twiddles.upload(plan.twiddles);
  fft_plan = {config.fft_size, reinterpret_cast<const float2*>(twiddles.data())};
  window.upload(istft_window(config));
  owned_stream = make_stream();
  stream = owned_stream.get();
  // Captured once: every replay reads the codes and mask staged before it and the streaming
  // state then in device memory.
  frame_graph = capture(stream, [this] { enqueue_frame(nullptr); });
}

void CudaSpectroStreamDecoder::Device::enqueue_frame(const std::uint32_t* device_codes) {
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(control.data(), staged_control.get(), sizeof(DecodeControl),
                                      cudaMemcpyHostToDevice, stream));
  if (device_codes != nullptr) {  // codes lie in 0..codebook: the same bits as int32
    static_assert(sizeof(DecodeControl::codes) == kLmLevels * sizeof(std::uint32_t));
    CONTINUO_CUDA_CHECK(cudaMemcpyAsync(control.data()->codes, device_codes, sizeof(DecodeControl::codes),
                                        cudaMemcpyDeviceToDevice, stream));
  }
  input_stage();
  for (int i = 0; i < static_cast<int>(blocks.size()); ++i) {
    const Host::Block& b = blocks[static_cast<std::size_t>(i)].host;
    run_block(blocks[static_cast<std::size_t>(i)]);
    if (i == config.split_block) {
      split_channels(b.out_floats / static_cast<std::size_t>(b.upsample.channels), b.upsample.channels);
    }
  }
  output_stage();
  kc::istft(stream, istft_shape, fft_plan, window.data(), istft_overlap.data(), spectrum.data(), istft_scratch.data(),
            samples.data());
  CONTINUO_CUDA_CHECK(cudaMemcpyAsync(staged_samples.get(), samples.data(), staged_samples.bytes(),
                                      cudaMemcpyDeviceToHost, stream));
}

// Host::input_stage's twin.
void CudaSpectroStreamDecoder::Device::input_stage() {
  const auto projected = static_cast<std::size_t>(config.input_bins) * config.input_channels;
  const DeviceConv &proj = input[0], &b1 = input[1], &b2 = input[2], &res_a = input[3], &res_b = input[4];
  kc::rvq_decode(stream, {config.levels, config.codebook, config.features}, embedding, control.data()->codes,
                 features.data());
  float* x = current.data();
  proj.run(stream, 0, features.data(), scratch.data(), x);
  b1.run(stream, 0, features.data(), scratch.data(), temp_a.data());
  kc::elu(stream, projected, temp_a.data(), temp_a.data());
  b2.run(stream, 0, temp_a.data(), scratch.data(), temp_b.data());
  add_in_place(stream, x, temp_b.data(), projected);
  kc::elu(stream, projected, x, temp_a.data());
  res_a.run(stream, 0, temp_a.data(), scratch.data(), temp_b.data());
  kc::elu(stream, projected, temp_b.data(), temp_b.data());
  res_b.run(stream, 0, temp_b.data(), scratch.data(), temp_a.data());
  add_in_place(stream, x, temp_a.data(), projected);
}

// Host::run_block's twin.
void CudaSpectroStreamDecoder::Device::run_block(const DeviceBlock& b) {
  const Host::Block& h = b.host;
  for (int g = 0; g < h.groups; ++g) {
    const float* x = current.data() + g * h.in_floats;
    float* y = next.data() + g * h.out_floats;
    kc::elu(stream, h.in_floats, x, temp_a.data());
    b.up.run(stream, g, temp_a.data(), scratch.data(), temp_b.data());
    kc::elu(stream, h.out_floats, temp_b.data(), temp_b.data());
    b.conv.run(stream, g, temp_b.data(), scratch.data(), y);
    const float* shortcut = x;
    if (b.skip) {
      b.skip->run(stream, g, x, scratch.data(), temp_a.data());
      shortcut = temp_a.data();
    }
    kc::upsample2d_add(stream, h.upsample, shortcut, y);
  }
  std::swap(current, next);
}

// Host::split_channels's twin: group g's channels of every pixel into a block of its own,
// one strided copy per group.
void CudaSpectroStreamDecoder::Device::split_channels(std::size_t pixels, int channels) {
  const auto per_group = static_cast<std::size_t>(channels / config.splits);
  for (int g = 0; g < config.splits; ++g) {
    CONTINUO_CUDA_CHECK(cudaMemcpy2DAsync(next.data() + g * pixels * per_group, per_group * sizeof(float),
                                          current.data() + g * per_group, channels * sizeof(float),
                                          per_group * sizeof(float), pixels, cudaMemcpyDeviceToDevice, stream));
  }
  std::swap(current, next);
}

// Host::output_stage's twin; the mask's frame count (the first frame whose phase moves) comes
// from the staged control.
void CudaSpectroStreamDecoder::Device::output_stage() {
  const std::size_t in_floats = blocks.back().host.out_floats;
  const std::size_t group_floats = spectrum.size() / static_cast<std::size_t>(config.splits);
  for (int g = 0; g < config.splits; ++g) {
    kc::elu(stream, in_floats, current.data() + g * in_floats, temp_a.data());
    output->run(stream, g, temp_a.data(), scratch.data(), spectrum.data() + g * group_floats);
  }
  zero_leading_frames(stream, &control.data()->masked_frames, spectrum.data(), config.splits, group_floats,
                      static_cast<std::size_t>(config.fft_size));
  if (config.phase_accumulate) {
    kc::phase_accumulate(stream, phase_shape, &control.data()->masked_frames, phase.data(), spectrum.data());
  }
  if (config.peak_phase) kc::peak_phase(stream, peak_shape, &control.data()->masked_frames, phase.data(), spectrum.data());
}

std::vector<kc::DeviceBuffer<float>*> CudaSpectroStreamDecoder::Device::state() {
  std::vector<kc::DeviceBuffer<float>*> buffers{&istft_overlap};
  for (DeviceConv& conv : input) buffers.push_back(&conv.history);
  for (DeviceBlock& b : blocks) {
    buffers.push_back(&b.up.overlap);
    buffers.push_back(&b.conv.history);
    if (b.skip) buffers.push_back(&b.skip->history);
  }
  buffers.push_back(&output->history);
  return buffers;
}

CudaSpectroStreamDecoder::CudaSpectroStreamDecoder(const SpectroStreamDecoder& host) {
  require_device();
  device_ = std::make_unique<Device>(host);
  reset();
}

CudaSpectroStreamDecoder::~CudaSpectroStreamDecoder() = default;

void CudaSpectroStreamDecoder::reset() {
  Device& d = *device_;
  for (kc::DeviceBuffer<float>* buffer : d.state()) clear(d.stream, *buffer);
  clear(d.stream, d.phase);
  CONTINUO_CUDA_CHECK(cudaStreamSynchronize(d.stream));
  d.mask = Host::LookaheadMask::after_reset(d.config);
}

void CudaSpectroStreamDecoder::decode(const FrameCodes& codes, std::span<float> out, Launch launch) {
  Device& d = *device_;
  check_output(out);
  stage_decode(&codes);
  if (launch == Launch::graph) {
    CONTINUO_CUDA_CHECK(cudaGraphLaunch(d.frame_graph.get(), d.stream));
  } else {
    d.enqueue_frame(nullptr);
  }
  // The generator waits on this runtime's stream only: the staged values may change again.
  CONTINUO_CUDA_CHECK(cudaStreamSynchronize(d.stream));
  finish_decode(out);
}

void CudaSpectroStreamDecoder::stage_decode(const FrameCodes* codes) {
  Device& d = *device_;
  DecodeControl& c = *d.staged_control.get();
  if (codes != nullptr) std::copy(codes->begin(), codes->end(), c.codes);
  c.masked_frames = d.mask.take(d.istft_shape.frames);
}

void CudaSpectroStreamDecoder::enqueue_decode(const std::uint32_t* device_codes) { device_->enqueue_frame(device_codes); }

void CudaSpectroStreamDecoder::finish_decode(std::span<float> out) const {
  const std::span<const float> samples = device_->staged_samples.span();
  std::copy(samples.begin(), samples.end(), out.begin());
}

void CudaSpectroStreamDecoder::check_output(std::span<const float> out) const {
  if (out.size() != device_->staged_samples.span().size()) {
    throw std::invalid_argument("CudaSpectroStreamDecoder: the output must hold 2 * frame_samples() floats");
  }
}

cudaStream_t CudaSpectroStreamDecoder::stream() const { return device_->stream; }

std::size_t CudaSpectroStreamDecoder::weight_bytes() const { return device_->weights.bytes(); }

}  // namespace continuo::model::cuda
