// Per-op cost of the CUDA kernels at MRT2's and SpectroStream's shapes, against the device's
// own copy bandwidth (issue 4; docs/cuda.md "Benchmarks"). A plain program:
//   bench_cuda_kernels [replays]     default 50; prints "no CUDA device" and exits 77 without one
// Each case captures kLaunches calls of the op into one CUDA graph (as a frame graph would
// hold them) and replays it; time per call = event time / (replays · kLaunches), so node
// gaps are included. Weights (and tables) are rotated over enough copies to pass 256 MB per
// replay, more than the H200's 50 MB L2, so weight bytes come from DRAM as in a real frame;
// activations and state stay hot, as they would. Bytes = what the op must move at least once
// (weights, inputs, outputs, state); "% copy" = bytes/time over the bandwidth of a device-to-
// device cudaMemcpyAsync of 1 GiB (read + write counted). Convolutions and transforms also
// print GFLOP/s (2 per multiply-add). Weights are bf16, filled with a finite constant.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "kernels/attention/attention_cuda.hpp"
#include "kernels/conv2d/conv2d_cuda.hpp"
#include "kernels/conv2d_strided/conv2d_strided_cuda.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d_cuda.hpp"
#include "kernels/cuda/cuda.hpp"
#include "kernels/dense/dense_cuda.hpp"
#include "kernels/elu/elu_cuda.hpp"
#include "kernels/fft/fft_cuda.hpp"
#include "kernels/ffn/ffn_cuda.hpp"
#include "kernels/istft/istft_cuda.hpp"
#include "kernels/peak_phase/peak_phase_cuda.hpp"
#include "kernels/phase_accumulate/phase_accumulate_cuda.hpp"
#include "kernels/rms_norm/rms_norm_cuda.hpp"
#include "kernels/rvq_decode/rvq_decode_cuda.hpp"
#include "kernels/rvq_encode/rvq_encode_cuda.hpp"
#include "kernels/sample/sample_cuda.hpp"
#include "kernels/stft/stft_cuda.hpp"

namespace {

namespace k = continuo::kernels;
namespace cu = continuo::kernels::cuda;

constexpr int kSkip = 77;
constexpr int kLaunches = 20;                      // calls per graph
constexpr std::size_t kRotateBytes = 256u << 20;  // weight copies per replay: more than L2

using Op = std::function<void(cudaStream_t, int call)>;

struct Bench {
  cudaStream_t stream = nullptr;
  int replays = 50;
  double copy_gbs = 0.0;
};

// µs per call of op, kLaunches calls captured in one graph.
double time_graph(const Bench& b, const Op& op) {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  CONTINUO_CUDA_CHECK(cudaStreamBeginCapture(b.stream, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < kLaunches; ++i) op(b.stream, i);
  CONTINUO_CUDA_CHECK(cudaStreamEndCapture(b.stream, &graph));
  CONTINUO_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  for (int i = 0; i < 3; ++i) CONTINUO_CUDA_CHECK(cudaGraphLaunch(exec, b.stream));  // warm-up
  cudaEvent_t start = nullptr, stop = nullptr;
  CONTINUO_CUDA_CHECK(cudaEventCreate(&start));
  CONTINUO_CUDA_CHECK(cudaEventCreate(&stop));
  CONTINUO_CUDA_CHECK(cudaEventRecord(start, b.stream));
  for (int i = 0; i < b.replays; ++i) CONTINUO_CUDA_CHECK(cudaGraphLaunch(exec, b.stream));
  CONTINUO_CUDA_CHECK(cudaEventRecord(stop, b.stream));
  CONTINUO_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0.0f;
  CONTINUO_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  CONTINUO_CUDA_CHECK(cudaEventDestroy(start));
  CONTINUO_CUDA_CHECK(cudaEventDestroy(stop));
  CONTINUO_CUDA_CHECK(cudaGraphExecDestroy(exec));
  CONTINUO_CUDA_CHECK(cudaGraphDestroy(graph));
  return 1000.0 * ms / (static_cast<double>(b.replays) * kLaunches);
}

// GB/s of a 1 GiB device-to-device copy, read + write.
double copy_bandwidth(cudaStream_t stream) {
  constexpr std::size_t kBytes = std::size_t{1} << 30;
  cu::DeviceBuffer<unsigned char> a(kBytes), c(kBytes);
  Bench b{stream, 10, 0.0};
  const double us = time_graph(b, [&](cudaStream_t s, int) {
    CONTINUO_CUDA_CHECK(cudaMemcpyAsync(c.data(), a.data(), kBytes, cudaMemcpyDeviceToDevice, s));
  });
  return 2.0 * kBytes / (us * 1e3);
}

void report(const Bench& b, const std::string& name, double us, double bytes, double flops = 0.0) {
  const double gbs = bytes / (us * 1e3);
  std::printf("%-52s %9.2f us %10.3f MB %8.1f GB/s %6.1f %% copy", name.c_str(), us, bytes / 1e6, gbs,
              100.0 * gbs / b.copy_gbs);
  if (flops > 0.0) std::printf(" %9.1f GFLOP/s", flops / (us * 1e3));
  std::printf("\n");
  std::fflush(stdout);
}

// `copies` device copies of a bf16 tensor of n values (constant 0x3C3C ≈ 0.0115), enough to
// pass kRotateBytes over kLaunches calls; call i uses copy i % copies.
struct Rotated {
  std::vector<cu::DeviceBuffer<std::uint16_t>> copies;
  explicit Rotated(std::size_t n) {
    const std::size_t bytes = std::max<std::size_t>(n * 2, 1);
    const std::size_t count = std::clamp<std::size_t>((kRotateBytes + bytes - 1) / bytes, 1, kLaunches);
    for (std::size_t i = 0; i < count; ++i) {
      copies.emplace_back(n);
      copies.back().fill_bytes(0x3C);
    }
  }
  cu::DeviceWeightView view(int call) const {
    const auto& c = copies[static_cast<std::size_t>(call) % copies.size()];
    return {c.data(), k::DType::bf16, c.size()};
  }
};

cu::DeviceBuffer<float> floats(std::size_t n, unsigned char byte = 0x3C) {
  cu::DeviceBuffer<float> d(std::max<std::size_t>(n, 1));
  d.fill_bytes(byte);
  return d;
}

cu::DeviceWeightView no_bias() { return {}; }

// ---- the Depthformer's ops -------------------------------------------------------------------

void dense_case(const Bench& b, std::size_t in, std::size_t out, std::size_t rows) {
  const Rotated w(in * out);
  const auto x = floats(in), y = floats(rows);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::dense_rows(s, {in, out}, w.view(i), no_bias(), x.data(), 0, rows, y.data());
  });
  report(b, "dense_rows bf16 " + std::to_string(in) + " -> " + std::to_string(rows) + " of " + std::to_string(out),
         us, 2.0 * in * rows + 4.0 * (in + rows));
}

void ffn_case(const Bench& b, std::size_t model, std::size_t hidden) {
  const k::FfnShape shape{model, hidden, true, k::Activation::gelu_tanh};
  const std::size_t rows1 = k::ffn_scratch_size(shape);
  const Rotated w1(rows1 * model), w2(model * hidden);
  const auto x = floats(model), y = floats(model), scratch = floats(rows1);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::ffn(s, shape, {w1.view(i), no_bias(), w2.view(i), no_bias()}, x.data(), scratch.data(), y.data());
  });
  report(b, "ffn gated bf16 " + std::to_string(model) + " -> " + std::to_string(hidden), us,
         2.0 * (rows1 * model + model * hidden) + 4.0 * (2 * model + 2 * rows1));
}

void rms_norm_case(const Bench& b, std::size_t dim) {
  const Rotated scale(dim);
  const auto x = floats(dim), y = floats(dim);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::rms_norm(s, {dim, 1e-6f}, scale.view(i), x.data(), y.data());
  });
  report(b, "rms_norm " + std::to_string(dim), us, 2.0 * dim + 8.0 * dim);
}

void attend_case(const Bench& b, std::size_t heads, std::size_t dim, std::size_t window) {
  const std::size_t ring_floats = k::kv_ring_floats(window, heads, dim);
  const auto keys = floats(ring_floats, 0), values = floats(ring_floats, 0);
  cu::DeviceBuffer<cu::KvRingState> state(1);
  const cu::KvRingState full{0, static_cast<std::uint32_t>(window)};
  state.upload({&full, 1});
  const cu::DeviceKvRing ring{keys.data(), values.data(), window, heads, dim, state.data()};
  const auto q = floats(heads * dim, 0), scale = floats(dim, 0), out = floats(heads * dim);
  const double us = time_graph(b, [&](cudaStream_t s, int) {
    cu::attend(s, ring, {}, q.data(), scale.data(), out.data());
  });
  report(b, "attend " + std::to_string(heads) + " x " + std::to_string(dim) + ", " + std::to_string(window) +
                " slots",
         us, 4.0 * (2 * ring_floats + 3 * heads * dim));
}

void sample_case(const Bench& b) {
  constexpr std::size_t kVocab = 1024;
  const auto logits = floats(kVocab, 0);
  cu::DeviceBuffer<cu::SampleControl> control(1);
  const cu::SampleControl settings{1, 0, 1.0f, 40, 30.0f, 0};
  control.upload({&settings, 1});
  cu::DeviceBuffer<std::uint32_t> token(1);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::sample_seeded(s, kVocab, control.data(), static_cast<std::uint32_t>(i % 12), logits.data(), token.data());
  });
  report(b, "sample_seeded 1024, top-k 40, cap 30", us, 4.0 * kVocab);
}

// ---- the codec's ops -------------------------------------------------------------------------

double conv_bytes(std::size_t weights, std::size_t in, std::size_t out, std::size_t state) {
  return 2.0 * weights + 4.0 * (in + out + 2 * state);
}

void conv2d_case(const Bench& b, const char* what, const k::Conv2dShape& sh) {
  const std::size_t weights = static_cast<std::size_t>(sh.kt) * sh.kf * sh.cin * sh.cout;
  const Rotated w(weights);
  const std::size_t in = static_cast<std::size_t>(sh.frames) * sh.freq * sh.cin;
  const std::size_t out = static_cast<std::size_t>(sh.frames) * sh.freq * sh.cout;
  auto history = floats(k::conv2d_history_size(sh), 0);
  auto scratch = floats(cu::conv2d_cuda_scratch_size(sh));
  const auto x = floats(in, 0), y = floats(out);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::conv2d(s, sh, w.view(i), no_bias(), history.data(), x.data(), scratch.data(), y.data());
  });
  report(b, std::string("conv2d ") + what, us, conv_bytes(weights, in, out, k::conv2d_history_size(sh)),
         2.0 * static_cast<double>(out) * sh.kt * sh.kf * sh.cin);
}

void conv2d_strided_case(const Bench& b, const char* what, const k::Conv2dStridedShape& sh) {
  const std::size_t weights = static_cast<std::size_t>(sh.kt) * sh.kf * sh.cin * sh.cout;
  const Rotated w(weights);
  const std::size_t in = static_cast<std::size_t>(sh.frames) * sh.freq * sh.cin;
  const std::size_t out = static_cast<std::size_t>(sh.frames / sh.st) * k::conv2d_strided_out_freq(sh) * sh.cout;
  auto history = floats(k::conv2d_strided_history_size(sh), 0);
  auto scratch = floats(cu::conv2d_strided_cuda_scratch_size(sh));
  const auto x = floats(in, 0), y = floats(out);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::conv2d_strided(s, sh, w.view(i), no_bias(), history.data(), x.data(), scratch.data(), y.data());
  });
  report(b, std::string("conv2d_strided ") + what, us,
         conv_bytes(weights, in, out, k::conv2d_strided_history_size(sh)),
         2.0 * static_cast<double>(out) * sh.kt * sh.kf * sh.cin);
}

void conv_transpose2d_case(const Bench& b, const char* what, k::ConvTranspose2dShape sh) {
  sh.pad_left = k::conv_transpose_same_pad(sh.kf, sh.sf);
  const std::size_t weights = static_cast<std::size_t>(sh.kt) * sh.kf * sh.cin * sh.cout;
  const Rotated w(weights);
  const std::size_t in = static_cast<std::size_t>(sh.frames) * sh.freq * sh.cin;
  const std::size_t out = static_cast<std::size_t>(sh.frames) * sh.st * sh.freq * sh.sf * sh.cout;
  auto overlap = floats(k::conv_transpose2d_overlap_size(sh), 0);
  auto scratch = floats(cu::conv_transpose2d_cuda_scratch_size(sh));
  const auto x = floats(in, 0), y = floats(out);
  const double us = time_graph(b, [&](cudaStream_t s, int i) {
    cu::conv_transpose2d(s, sh, w.view(i), no_bias(), overlap.data(), x.data(), scratch.data(), y.data());
  });
  report(b, std::string("conv_transpose2d ") + what, us,
         conv_bytes(weights, in, out, k::conv_transpose2d_overlap_size(sh)),
         2.0 * static_cast<double>(in) * sh.kt * sh.kf * sh.cout);
}

struct Plan {
  cu::DeviceBuffer<std::complex<float>> twiddles;
  cu::DeviceFftPlan device;
};

Plan plan_of(int n) {
  const k::FftPlan plan = k::make_fft_plan(n);
  Plan p{cu::DeviceBuffer<std::complex<float>>(plan.twiddles.size()), {}};
  p.twiddles.upload(plan.twiddles);
  p.device = {n, reinterpret_cast<const float2*>(p.twiddles.data())};
  return p;
}

void spectral_cases(const Bench& b) {
  const k::StftShape st{960, 480, 2, 4};
  const Plan plan = plan_of(st.fft_size);
  const auto window = floats(960, 0);
  const std::size_t samples = (3 * 480 + 960) * 2, spectrum = 2 * 4 * 480 * 2;
  const auto x = floats(samples, 0), y = floats(spectrum);
  const double dft = 2.0 * 4 * 2 * 960.0 * 480.0 * 2;  // frames × channels × n × bins × (re, im)
  report(b, "stft 960/480, 2 channels x 4 frames",
         time_graph(b, [&](cudaStream_t s, int) {
           cu::stft(s, st, plan.device, window.data(), x.data(), y.data());
         }),
         4.0 * (samples + spectrum), dft);
  const k::IstftShape is{960, 480, 2, 4};
  auto overlap = floats(k::istft_overlap_size(is), 0);
  auto scratch = floats(cu::istft_cuda_scratch_size(is));
  const auto audio = floats(4 * 480 * 2);
  report(b, "istft 960/480, 2 channels x 4 frames",
         time_graph(b, [&](cudaStream_t s, int) {
           cu::istft(s, is, plan.device, window.data(), overlap.data(), y.data(), scratch.data(), audio.data());
         }),
         4.0 * (spectrum + 4 * 480 * 2 + 2 * k::istft_overlap_size(is)), dft);
  const k::PhaseAccumulateShape ps{960, 2, 4};
  const std::size_t phases = k::phase_accumulate_state_size(ps);
  cu::DeviceBuffer<double> phase(phases);
  phase.fill_bytes(0);
  cu::DeviceBuffer<std::int32_t> first_frame(1);
  first_frame.fill_bytes(0);
  report(b, "phase_accumulate 960/480, 2 channels x 4 frames",
         time_graph(b, [&](cudaStream_t s, int) {
           cu::phase_accumulate(s, ps, first_frame.data(), phase.data(), y.data());
         }),
         2.0 * (4.0 * spectrum + 8.0 * phases));
  // The peak_phase codec's spectrum: the same floats as 2 frames of 1920 points.
  const k::PeakPhaseShape peak{1920, 2, 2};
  cu::DeviceBuffer<double> psi(k::peak_phase_state_size(peak));
  psi.fill_bytes(0);
  report(b, "peak_phase 1920/960, 2 channels x 2 frames",
         time_graph(b, [&](cudaStream_t s, int) { cu::peak_phase(s, peak, first_frame.data(), psi.data(), y.data()); }),
         2.0 * (4.0 * spectrum + 8.0 * static_cast<double>(psi.size())));
}

void rvq_cases(const Bench& b) {
  const k::RvqShape shape{12, 1024, 256};
  const std::size_t table_values = 12u * 1024 * 256;
  const Rotated table(table_values);
  std::vector<std::int32_t> host_codes(12, 7);
  cu::DeviceBuffer<std::int32_t> codes(12);
  codes.upload(host_codes);
  const auto out = floats(256);
  report(b, "rvq_decode 12 x 1024 x 256",
         time_graph(b, [&](cudaStream_t s, int i) {
           cu::rvq_decode(s, shape, table.view(i), codes.data(), out.data());
         }),
         2.0 * 12 * 256 + 4.0 * 256);
  const auto norms = floats(12 * 1024, 0);
  auto residual = floats(256, 0);
  cu::DeviceBuffer<std::uint32_t> scratch(cu::rvq_encode_scratch_size(shape));
  report(b, "rvq_encode 12 x 1024 x 256 (12 launches)",
         time_graph(b, [&](cudaStream_t s, int i) {
           cu::rvq_encode(s, shape, table.view(i), norms.data(), residual.data(), codes.data(), scratch.data());
         }),
         2.0 * table_values + 4.0 * 12 * 1024, 2.0 * table_values);
}

void elu_case(const Bench& b, std::size_t n) {
  auto x = floats(n, 0);
  report(b, "elu " + std::to_string(n) + " in place",
         time_graph(b, [&](cudaStream_t s, int) { cu::elu(s, n, x.data(), x.data()); }), 8.0 * n);
}

}  // namespace

int main(int argc, char** argv) {
  const cu::Probe probe = cu::probe_devices();
  if (probe.devices == 0) {
    std::printf("no CUDA device: skipping (%s)\n", probe.reason.c_str());
    return kSkip;
  }
  try {
    Bench b;
    if (argc > 1) b.replays = std::max(1, std::atoi(argv[1]));
    CONTINUO_CUDA_CHECK(cudaStreamCreateWithFlags(&b.stream, cudaStreamNonBlocking));
    b.copy_gbs = copy_bandwidth(b.stream);
    std::printf("device: %s\ncopy bandwidth (1 GiB D2D, read + write): %.1f GB/s\n", probe.name.c_str(), b.copy_gbs);
    std::printf("%d calls per graph, %d replays; weights bf16, rotated over >= %zu MB\n\n", kLaunches, b.replays,
                kRotateBytes >> 20);
    dense_case(b, 1024, 4096, 4096);    // mrt2_small FFN up
    dense_case(b, 3072, 8192, 8192);    // mrt2_base FFN up (one half of the gate)
    dense_case(b, 8192, 3072, 3072);    // mrt2_base FFN down
    dense_case(b, 1024, 12295, 1024);   // one RVQ level's logits (small)
    dense_case(b, 3072, 12295, 12295);  // all logits (base)
    ffn_case(b, 1024, 4096);
    ffn_case(b, 3072, 8192);
    rms_norm_case(b, 3072);
    attend_case(b, 8, 128, 42);   // small temporal
    attend_case(b, 24, 128, 26);  // base temporal
    attend_case(b, 8, 128, 13);   // base depth
    sample_case(b);
    //                                      kt kf  cin  cout freq pad frames
    conv2d_case(b, "3x3 512, 5 bins, 1 frame", {3, 3, 512, 512, 5, 1, 1});
    conv2d_case(b, "3x3 1024, 5 bins, 2 frames", {3, 3, 1024, 1024, 5, 1, 2});
    conv2d_case(b, "3x3 256, 40 bins, 4 frames", {3, 3, 256, 256, 40, 1, 4});
    conv2d_case(b, "3x3 64, 480 bins, 4 frames", {3, 3, 64, 64, 480, 1, 4});
    conv2d_case(b, "7x7 64 -> 2, 480 bins, 4 frames", {7, 7, 64, 2, 480, 3, 4});
    conv2d_case(b, "1x1 256 -> 2560, 1 pixel", {1, 1, 256, 2560, 1, 0, 1});
    //                                                kt kf st sf  cin cout freq pl pr frames
    conv2d_strided_case(b, "e0 (1,2) 32 -> 64, 480 bins", {3, 4, 1, 2, 32, 64, 480, 1, 1, 4});
    conv2d_strided_case(b, "e5 (2,2) 128 -> 256, 10 bins", {4, 4, 2, 2, 128, 256, 10, 1, 1, 4});
    //                                                    kt kf st sf  cin  cout freq pad frames
    conv_transpose2d_case(b, "d0 (2,1) 512 -> 1024, 5 bins", {4, 3, 2, 1, 512, 1024, 5, 0, 1});
    conv_transpose2d_case(b, "d1 (2,2) 512 -> 256, 5 bins", {4, 4, 2, 2, 512, 256, 5, 0, 2});
    conv_transpose2d_case(b, "d6 (1,2) 128 -> 64, 240 bins", {3, 4, 1, 2, 128, 64, 240, 0, 4});
    spectral_cases(b);
    rvq_cases(b);
    elu_case(b, 4 * 480 * 64);
    CONTINUO_CUDA_CHECK(cudaStreamDestroy(b.stream));
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n", e.what());
    return 1;
  }
  return 0;
}
