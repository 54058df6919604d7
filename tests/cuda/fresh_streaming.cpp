// Part 2 of the CUDA parity test for SpectroStream's streaming ops: conv2d, conv2d_strided,
// conv_transpose2d, istft, phase_accumulate and peak_phase, each stepped over many calls beside its CPU op
// with its state (history, open frames, open samples, running phases) on the device the whole
// time, fresh random inputs at every call, the output poisoned before every call and compared at
// every call, the final state compared at the end; some cases capture the call once in a CUDA
// graph and replay it.
// Shapes: the codec's (docs/spectrostream.md: decoder d0–d6, encoder e0–e6, input and output
// convs, the 960/480 STFT) and odd ones that reach the kernels' edge paths (calls shorter than
// the history, kt = st, kf < sf, channel counts that are not multiples of the tiles).
// Tolerance kTolerance: the convolutions sum each output in the CPU's (tap, channel) order
// with FMAs (the CPU's AVX2/AVX-512 path does too); the inverse STFT sums directly where the
// CPU runs an FFT (fp32 rounding of a 480-term sum, ~1e-6 of the scale); phase_accumulate
// computes the CPU's double expressions (atan2, cos, sin within a few double ulps), peak_phase
// the CPU's fp32 magnitudes and peaks exactly and its double phases (log, cos, sin).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/conv2d/conv2d_cuda.hpp"
#include "kernels/conv2d_strided/conv2d_strided_cuda.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d_cuda.hpp"
#include "kernels/fft/fft_cuda.hpp"
#include "kernels/istft/istft_cuda.hpp"
#include "kernels/peak_phase/peak_phase_cuda.hpp"
#include "kernels/phase_accumulate/phase_accumulate_cuda.hpp"
#include "tests/cuda/support.hpp"

namespace continuo::cuda_test {
namespace {

// One streaming op as the stepper drives it: the CPU call, the device call (enqueue only, from
// the device input to the device output), the sizes of a call's input and output, the state's
// error after the last step (device against CPU, non-finite values counted as bad), and what
// runs first at every step, before either call (per-step arguments, uploaded in the stream's
// order as a runtime stages them before a replay).
struct StreamingOp {
  std::size_t in = 0, out = 0;
  std::function<void(const float* x, float* y)> cpu;
  std::function<void(cudaStream_t, const float* x, float* y)> device;
  std::function<double(std::size_t& bad)> state_error;
  std::function<void(cudaStream_t, int step)> before_step;
};

// max |device − cpu| / max |cpu| over a state, for StreamingOp::state_error.
template <typename T>
std::function<double(std::size_t&)> compare_state(const std::vector<T>& cpu, const cu::DeviceBuffer<T>& device) {
  return [&cpu, &device](std::size_t& bad) {
    if (cpu.empty()) return 0.0;
    std::vector<T> got(device.size());
    device.download(got);
    double worst = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      bad += !std::isfinite(got[i]);
      worst = std::max(worst, std::abs(static_cast<double>(got[i]) - static_cast<double>(cpu[i])));
      scale = std::max(scale, std::abs(static_cast<double>(cpu[i])));
    }
    return worst / std::max(scale, 1e-30);
  };
}

// `steps` calls with fresh inputs in [−1, 1]; every output compared, then the state. With
// `graph`, the device call is captured once and replayed at every step (inputs written in the
// stream's order before each replay, as a runtime does).
void run_steps(Report& r, h::Rng& rng, const std::string& name, const StreamingOp& op, int steps, bool graph) {
  cu::DeviceBuffer<float> x(op.in);
  Poisoned<float> y(op.out);
  cudaStream_t stream = nullptr;
  CONTINUO_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CONTINUO_CUDA_CHECK(cudaDeviceSynchronize());  // the state's zeros, written on stream 0
  cudaGraph_t captured = nullptr;
  cudaGraphExec_t exec = nullptr;
  if (graph) {
    CONTINUO_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    op.device(stream, x.data(), y.data());
    CONTINUO_CUDA_CHECK(cudaStreamEndCapture(stream, &captured));
    CONTINUO_CUDA_CHECK(cudaGraphInstantiate(&exec, captured, 0));
  }
  std::vector<float> got, want;
  std::size_t bad = 0;
  for (int step = 0; step < steps; ++step) {
    if (op.before_step) op.before_step(stream, step);
    const auto input = h::uniform(rng, op.in, -1.0f, 1.0f);
    std::vector<float> expected(op.out);
    op.cpu(input.data(), expected.data());
    want.insert(want.end(), expected.begin(), expected.end());
    y.repoison(stream);
    upload_on(stream, x.data(), input.data(), op.in);
    if (graph) {
      CONTINUO_CUDA_CHECK(cudaGraphLaunch(exec, stream));
    } else {
      op.device(stream, x.data(), y.data());
    }
    const auto out = y.read(bad);
    got.insert(got.end(), out.begin(), out.end());
  }
  double error = relative_error(got, want);
  if (op.state_error) error = std::max(error, op.state_error(bad));
  if (graph) {
    CONTINUO_CUDA_CHECK(cudaGraphExecDestroy(exec));
    CONTINUO_CUDA_CHECK(cudaGraphDestroy(captured));
  }
  CONTINUO_CUDA_CHECK(cudaStreamDestroy(stream));
  r.record(name + "_steps" + std::to_string(steps) + (graph ? "_graph" : ""), error, kTolerance,
           bad + nonfinite(got));
}

// Zeroed device state of n floats (the official reset).
cu::DeviceBuffer<float> zero_state(std::size_t n) {
  cu::DeviceBuffer<float> d(n);
  d.fill_bytes(0);
  return d;
}

// Scratch starts poisoned: a partial sum or a staged frame read before it is written is NaN.
cu::DeviceBuffer<float> poisoned_scratch(std::size_t n) {
  cu::DeviceBuffer<float> d(n);
  d.fill_bytes(0xFF);
  return d;
}

// He-like weights so activations stay O(1) whatever the fan-in.
struct ConvParams {
  h::Param weight, bias;
  DeviceWeights device_weight, device_bias;
};

ConvParams conv_params(h::Rng& rng, std::size_t taps, int cin, int cout, k::DType dtype, bool bias) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(taps * static_cast<std::size_t>(cin)));
  ConvParams p;
  p.weight = h::param(rng, taps * cin * cout, dtype, -bound, bound);
  if (bias) p.bias = h::param(rng, static_cast<std::size_t>(cout), dtype, -0.5f, 0.5f);
  p.device_weight = upload(p.weight.view(dtype));
  p.device_bias = upload(p.bias.view(dtype));
  return p;
}

std::string conv_name(const char* op, int kt, int kf, int st, int sf, int cin, int cout, int freq, int frames,
                      k::DType dtype) {
  return std::string(op) + "_k" + std::to_string(kt) + "x" + std::to_string(kf) + "_s" + std::to_string(st) +
         "x" + std::to_string(sf) + "_c" + std::to_string(cin) + "to" + std::to_string(cout) + "_f" +
         std::to_string(freq) + "_t" + std::to_string(frames) + "_" + dtype_name(dtype);
}

void conv2d_case(Report& r, h::Rng& rng, const k::Conv2dShape& s, k::DType dtype, int steps, bool graph,
                 bool bias = true) {
  const ConvParams p = conv_params(rng, static_cast<std::size_t>(s.kt) * s.kf, s.cin, s.cout, dtype, bias);
  std::vector<float> history(k::conv2d_history_size(s), 0.0f);
  std::vector<float> scratch(k::conv2d_scratch_size(s));
  auto device_history = zero_state(history.size());
  const auto device_scratch = poisoned_scratch(cu::conv2d_cuda_scratch_size(s));
  StreamingOp op;
  op.in = static_cast<std::size_t>(s.frames) * s.freq * s.cin;
  op.out = static_cast<std::size_t>(s.frames) * s.freq * s.cout;
  op.cpu = [&](const float* x, float* y) {
    k::conv2d(s, p.weight.view(dtype), p.bias.view(dtype), history.data(), x, scratch.data(), y);
  };
  op.device = [&](cudaStream_t stream, const float* x, float* y) {
    cu::conv2d(stream, s, p.device_weight.view, p.device_bias.view, device_history.data(), x,
               device_scratch.data(), y);
  };
  op.state_error = compare_state(history, device_history);
  run_steps(r, rng, conv_name("conv2d", s.kt, s.kf, 1, 1, s.cin, s.cout, s.freq, s.frames, dtype) +
                        (bias ? "" : "_nobias"),
            op, steps, graph);
}

void conv2d_strided_case(Report& r, h::Rng& rng, const k::Conv2dStridedShape& s, k::DType dtype, int steps,
                         bool graph) {
  const ConvParams p = conv_params(rng, static_cast<std::size_t>(s.kt) * s.kf, s.cin, s.cout, dtype, true);
  std::vector<float> history(k::conv2d_strided_history_size(s), 0.0f);
  std::vector<float> scratch(k::conv2d_strided_scratch_size(s));
  auto device_history = zero_state(history.size());
  const auto device_scratch = poisoned_scratch(cu::conv2d_strided_cuda_scratch_size(s));
  StreamingOp op;
  op.in = static_cast<std::size_t>(s.frames) * s.freq * s.cin;
  op.out = static_cast<std::size_t>(s.frames / s.st) * k::conv2d_strided_out_freq(s) * s.cout;
  op.cpu = [&](const float* x, float* y) {
    k::conv2d_strided(s, p.weight.view(dtype), p.bias.view(dtype), history.data(), x, scratch.data(), y);
  };
  op.device = [&](cudaStream_t stream, const float* x, float* y) {
    cu::conv2d_strided(stream, s, p.device_weight.view, p.device_bias.view, device_history.data(), x,
                       device_scratch.data(), y);
  };
  op.state_error = compare_state(history, device_history);
  run_steps(r, rng, conv_name("conv2d_strided", s.kt, s.kf, s.st, s.sf, s.cin, s.cout, s.freq, s.frames, dtype),
            op, steps, graph);
}

void conv_transpose2d_case(Report& r, h::Rng& rng, k::ConvTranspose2dShape s, k::DType dtype, int steps,
                           bool graph) {
  s.pad_left = k::conv_transpose_same_pad(s.kf, s.sf);
  const ConvParams p = conv_params(rng, static_cast<std::size_t>(s.kt) * s.kf, s.cin, s.cout, dtype, true);
  std::vector<float> overlap(k::conv_transpose2d_overlap_size(s), 0.0f);
  std::vector<float> scratch(k::conv_transpose2d_scratch_size(s));
  auto device_overlap = zero_state(overlap.size());
  const auto device_scratch = poisoned_scratch(cu::conv_transpose2d_cuda_scratch_size(s));
  StreamingOp op;
  op.in = static_cast<std::size_t>(s.frames) * s.freq * s.cin;
  op.out = static_cast<std::size_t>(s.frames) * s.st * s.freq * s.sf * s.cout;
  op.cpu = [&](const float* x, float* y) {
    k::conv_transpose2d(s, p.weight.view(dtype), p.bias.view(dtype), overlap.data(), x, scratch.data(), y);
  };
  op.device = [&](cudaStream_t stream, const float* x, float* y) {
    cu::conv_transpose2d(stream, s, p.device_weight.view, p.device_bias.view, device_overlap.data(), x,
                         device_scratch.data(), y);
  };
  op.state_error = compare_state(overlap, device_overlap);
  run_steps(r, rng, conv_name("conv_transpose2d", s.kt, s.kf, s.st, s.sf, s.cin, s.cout, s.freq, s.frames, dtype),
            op, steps, graph);
}

void istft_case(Report& r, h::Rng& rng, const k::IstftShape& s, int steps, bool graph) {
  const k::FftPlan plan = k::make_fft_plan(s.fft_size);
  std::vector<float> window(static_cast<std::size_t>(s.fft_size));
  k::istft_window(s.fft_size, s.hop, window.data());
  std::vector<float> overlap(k::istft_overlap_size(s), 0.0f);
  std::vector<float> scratch(k::istft_scratch_size(s));
  const auto device_twiddles = to_device(plan.twiddles.data(), plan.twiddles.size());
  const cu::DeviceFftPlan device_plan{s.fft_size, reinterpret_cast<const float2*>(device_twiddles.data())};
  const auto device_window = to_device(window.data(), window.size());
  auto device_overlap = zero_state(overlap.size());
  const auto device_scratch = poisoned_scratch(cu::istft_cuda_scratch_size(s));
  StreamingOp op;
  op.in = static_cast<std::size_t>(s.channels) * s.frames * s.fft_size;  // (fft/2) × (re, im)
  op.out = static_cast<std::size_t>(s.frames) * s.hop * s.channels;
  op.cpu = [&](const float* x, float* y) {
    k::istft(s, plan, window.data(), overlap.data(), x, scratch.data(), y);
  };
  op.device = [&](cudaStream_t stream, const float* x, float* y) {
    cu::istft(stream, s, device_plan, device_window.data(), device_overlap.data(), x, device_scratch.data(), y);
  };
  op.state_error = compare_state(overlap, device_overlap);
  run_steps(r, rng,
            "istft_n" + std::to_string(s.fft_size) + "_hop" + std::to_string(s.hop) + "_ch" +
                std::to_string(s.channels) + "_t" + std::to_string(s.frames),
            op, steps, graph);
}

// A spectrum output mode (phase_accumulate, peak_phase) in place, so the device call copies its
// input into the poisoned output first (a write past the output still hits a guard). The first
// call skips `skipped` frames (the lookahead's mask), the later ones none: the first frame is
// staged per step, as the decoder stages it per frame. Its state, per (channel, bin) doubles,
// starts at zero on both.
struct SpectrumMode {
  std::string name;
  std::size_t floats = 0;  // channels × frames × fft_size: (fft/2) × (re, im) per frame
  std::size_t state = 0;
  std::function<void(int first, double* state, float* y)> cpu;
  std::function<void(cudaStream_t, const std::int32_t* first, double* state, float* y)> device;
};

void spectrum_mode_case(Report& r, h::Rng& rng, const SpectrumMode& mode, int skipped, int steps, bool graph) {
  std::vector<double> state(mode.state, 0.0);
  cu::DeviceBuffer<double> device_state(state.size());
  device_state.fill_bytes(0);
  cu::DeviceBuffer<std::int32_t> device_first(1);
  std::int32_t first = 0;
  StreamingOp op;
  op.in = op.out = mode.floats;
  op.before_step = [&](cudaStream_t stream, int step) {
    first = step == 0 ? skipped : 0;
    upload_on(stream, device_first.data(), &first, 1);
  };
  op.cpu = [&](const float* x, float* y) {
    std::copy_n(x, op.in, y);
    mode.cpu(first, state.data(), y);
  };
  op.device = [&](cudaStream_t stream, const float* x, float* y) {
    CONTINUO_CUDA_CHECK(cudaMemcpyAsync(y, x, op.in * sizeof(float), cudaMemcpyDeviceToDevice, stream));
    mode.device(stream, device_first.data(), device_state.data(), y);
  };
  op.state_error = compare_state(state, device_state);
  run_steps(r, rng, mode.name + "_skip" + std::to_string(skipped), op, steps, graph);
}

std::string spectrum_name(const char* op, int fft_size, int channels, int frames) {
  return std::string(op) + "_n" + std::to_string(fft_size) + "_ch" + std::to_string(channels) + "_t" +
         std::to_string(frames);
}

void phase_accumulate_case(Report& r, h::Rng& rng, const k::PhaseAccumulateShape& s, int skipped, int steps,
                           bool graph) {
  spectrum_mode_case(
      r, rng,
      {spectrum_name("phase_accumulate", s.fft_size, s.channels, s.frames),
       static_cast<std::size_t>(s.channels) * s.frames * s.fft_size, k::phase_accumulate_state_size(s),
       [&](int first, double* phase, float* y) { k::phase_accumulate(s, first, phase, y); },
       [&](cudaStream_t stream, const std::int32_t* first, double* phase, float* y) {
         cu::phase_accumulate(stream, s, first, phase, y);
       }},
      skipped, steps, graph);
}

void peak_phase_case(Report& r, h::Rng& rng, const k::PeakPhaseShape& s, int skipped, int steps, bool graph) {
  std::vector<float> scratch(k::peak_phase_scratch_size(s));
  spectrum_mode_case(
      r, rng,
      {spectrum_name("peak_phase", s.fft_size, s.channels, s.frames),
       static_cast<std::size_t>(s.channels) * s.frames * s.fft_size, k::peak_phase_state_size(s),
       [&](int first, double* psi, float* y) { k::peak_phase(s, first, psi, scratch.data(), y); },
       [&](cudaStream_t stream, const std::int32_t* first, double* psi, float* y) {
         cu::peak_phase(stream, s, first, psi, y);
       }},
      skipped, steps, graph);
}

}  // namespace

void fresh_streaming_cases(Report& r, std::uint64_t seed) {
  h::Rng rng(seed ^ 0xA54FF53A5F1D36F1ull);
  const auto f32 = k::DType::f32;
  const auto bf16 = k::DType::bf16;
  //                   kt kf  cin  cout freq pad frames
  conv2d_case(r, rng, {3, 3, 512, 512, 5, 1, 1}, bf16, 6, true);    // decoder input residual unit
  conv2d_case(r, rng, {3, 3, 1024, 1024, 5, 1, 2}, bf16, 3, false);  // block 0's 3×3 (before the split)
  conv2d_case(r, rng, {3, 3, 64, 64, 480, 1, 4}, f32, 3, false);     // the finest blocks
  conv2d_case(r, rng, {7, 7, 64, 2, 480, 3, 4}, bf16, 3, true);      // output conv: 2 channels
  conv2d_case(r, rng, {7, 7, 2, 32, 480, 3, 4}, f32, 4, false);      // encoder base conv: cin 2
  conv2d_case(r, rng, {1, 1, 256, 2560, 1, 0, 1}, bf16, 3, false);   // input projection (1×1, 1 pixel)
  conv2d_case(r, rng, {2, 3, 5, 7, 9, 1, 3}, f32, 5, false, false);  // odd sizes, no bias
  conv2d_case(r, rng, {4, 1, 3, 17, 1, 0, 1}, f32, 9, false);        // history 3 > 1 frame per call
  conv2d_case(r, rng, {5, 3, 16, 24, 11, 1, 2}, bf16, 7, true);      // history 4 > 2 frames, graph
  //                           kt kf st sf  cin cout freq pl pr frames
  conv2d_strided_case(r, rng, {3, 4, 1, 2, 32, 64, 480, 1, 1, 4}, f32, 3, false);  // e0
  conv2d_strided_case(r, rng, {3, 6, 1, 3, 64, 128, 120, 1, 2, 4}, bf16, 3, true);  // e2
  conv2d_strided_case(r, rng, {4, 4, 2, 2, 128, 256, 10, 1, 1, 4}, bf16, 4, true);  // e5
  conv2d_strided_case(r, rng, {4, 3, 2, 1, 512, 256, 5, 1, 1, 2}, f32, 5, false);   // e6
  conv2d_strided_case(r, rng, {5, 3, 2, 3, 3, 7, 11, 2, 0, 2}, f32, 6, false);      // history 3 > 2
  conv2d_strided_case(r, rng, {2, 2, 2, 2, 4, 5, 8, 0, 0, 2}, bf16, 3, false);      // kt = st: none
  //                             kt kf st sf  cin  cout freq pad frames (pad from the shape)
  conv_transpose2d_case(r, rng, {4, 3, 2, 1, 512, 1024, 5, 0, 1}, bf16, 4, true);  // d0
  conv_transpose2d_case(r, rng, {4, 4, 2, 2, 512, 256, 5, 0, 2}, bf16, 3, false);  // d1
  conv_transpose2d_case(r, rng, {3, 6, 1, 3, 256, 128, 40, 0, 4}, f32, 3, false);  // d4
  conv_transpose2d_case(r, rng, {3, 4, 1, 2, 128, 64, 240, 0, 4}, bf16, 2, true);  // d6
  conv_transpose2d_case(r, rng, {3, 3, 1, 1, 5, 7, 6, 0, 1}, f32, 8, false);       // open 2 > 1 emitted
  conv_transpose2d_case(r, rng, {3, 1, 1, 3, 4, 6, 5, 0, 2}, f32, 4, false);       // kf < sf: empty phases
  conv_transpose2d_case(r, rng, {2, 2, 2, 2, 3, 4, 4, 0, 1}, f32, 3, false);       // kt = st: no overlap
  conv_transpose2d_case(r, rng, {3, 3, 3, 3, 8, 9, 4, 0, 2}, bf16, 4, true);       // 9 phases
  conv_transpose2d_case(r, rng, {3, 4, 1, 3, 64, 8, 3, 0, 1}, f32, 5, true);       // split K, phases of 2/1/1 taps
  //                 fft  hop ch frames
  istft_case(r, rng, {960, 480, 2, 4}, 8, true);  // the codec's: a token frame per call
  istft_case(r, rng, {64, 32, 2, 2}, 6, false);   // the tiny codec's
  istft_case(r, rng, {64, 24, 1, 1}, 10, false);  // open 40 > 24 emitted
  istft_case(r, rng, {16, 16, 2, 3}, 3, false);   // hop = fft: nothing open
  //                            fft  hop ch frames skipped
  phase_accumulate_case(r, rng, {960, 2, 4}, 4, 6, true);   // the codec's: the first call masked
  phase_accumulate_case(r, rng, {64, 2, 2}, 1, 5, false);    // the tiny codec's, half masked
  phase_accumulate_case(r, rng, {1000, 3, 3}, 0, 4, false);  // 500 bins: a partial block
  //                      fft  ch frames skipped
  peak_phase_case(r, rng, {1920, 2, 2}, 2, 6, true);   // the peak_phase codec's: the first call masked
  peak_phase_case(r, rng, {64, 2, 2}, 1, 5, false);    // the tiny codec's, half masked
  peak_phase_case(r, rng, {6000, 1, 3}, 0, 4, false);  // 3000 bins: 12 per thread, the most shared memory
}

}  // namespace continuo::cuda_test
