// The SpectroStream decoder at the real model's shapes (48 kHz stereo, 1920 samples per
// 40 ms frame) with random weights: ms per decoded frame (p50, p99), then each op of one
// frame timed on its own at its real shape (per block and summed per op kind).
//
//   bench_codec [frames=50] [decoder]     ("decoder": the whole decoder only, no op table)
//
// CONTINUO_CPU=sse2|avx2 and CONTINUO_THREADS=1 select the kernels' narrower paths
// (kernels/conv2d/conv2d.hpp).
// The random package (model.toml + codec.safetensors, tensors from spectrostream_tensors of
// the real config, the layout tools/mrt2_codec.py writes) is written to a temporary folder
// and removed at exit. Weights ~ U(±√(3/fan_in)), so activations keep their scale.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <ctime>
#include <utility>
#include <vector>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d.hpp"
#include "kernels/elu/elu.hpp"
#include "kernels/peak_phase/peak_phase.hpp"
#include "kernels/phase_accumulate/phase_accumulate.hpp"
#include "kernels/upsample2d/upsample2d.hpp"
#include "model/package.hpp"
#include "model/spectrostream.hpp"
#include "model/spectrostream_config.hpp"

namespace {

using namespace continuo;
using Clock = std::chrono::steady_clock;

model::SpectroStreamConfig real_config() {
  model::SpectroStreamConfig c;
  c.sample_rate = 48000;
  c.levels = 12;
  c.codebook = 1024;
  c.features = 256;
  c.input_bins = 5;
  c.input_channels = 512;
  c.blocks = {{2, 1, 1024}, {2, 2, 256}, {1, 2, 256}, {1, 2, 256}, {1, 3, 128}, {1, 2, 128}, {1, 2, 64}};
  c.splits = 2;
  c.split_block = 0;
  c.output_kernel = 7;
  c.channels = 4;
  c.bins = 480;
  c.fft_size = 960;
  c.hop = 480;
  c.frame_samples = 1920;
  c.lookahead = 1;
  return c;
}

std::string manifest(const model::SpectroStreamConfig& c) {
  std::string s =
      "[package]\nname = \"spectrostream_random\"\nfamily = \"mrt2\"\nformat_version = 1\n"
      "weights = [\"codec.safetensors\"]\n\n[audio]\nsample_rate = 48000\nchannels = 2\nframe_rate = 25.0\n\n"
      "[provenance]\nsource = \"bench_codec (random weights)\"\nlicence = \"none\"\nattribution = \"none\"\n\n"
      "[architecture]\n";
  auto key = [&](const std::string& name, int value) { s += "codec_" + name + " = " + std::to_string(value) + "\n"; };
  key("sample_rate", c.sample_rate);
  key("levels", c.levels);
  key("codebook", c.codebook);
  key("features", c.features);
  key("input_bins", c.input_bins);
  key("input_channels", c.input_channels);
  key("blocks", static_cast<int>(c.blocks.size()));
  for (std::size_t i = 0; i < c.blocks.size(); ++i) {
    const std::string b = "block" + std::to_string(i) + "_";
    key(b + "time_stride", c.blocks[i].time_stride);
    key(b + "freq_stride", c.blocks[i].freq_stride);
    key(b + "channels", c.blocks[i].channels);
  }
  key("splits", c.splits);
  key("split_block", c.split_block);
  key("output_kernel", c.output_kernel);
  key("channels", c.channels);
  key("bins", c.bins);
  key("fft_size", c.fft_size);
  key("hop", c.hop);
  key("frame_samples", c.frame_samples);
  key("lookahead", c.lookahead);
  return s;
}

// Uniform in ±√(3/fan_in), fan_in = all but the last dimension (biases: small).
void fill_random(std::mt19937& rng, const model::Shape& shape, float* out, std::size_t count) {
  std::size_t fan_in = 1;
  for (std::size_t d = 0; d + 1 < shape.size(); ++d) fan_in *= shape[d];
  const float bound = shape.size() == 1 ? 0.05f : std::sqrt(3.0f / static_cast<float>(fan_in));
  std::uniform_real_distribution<float> dist(-bound, bound);
  for (std::size_t i = 0; i < count; ++i) out[i] = dist(rng);
}

void write_package(const std::filesystem::path& dir, const model::SpectroStreamConfig& c) {
  std::mt19937 rng(1);
  std::string header = "{";
  std::vector<float> data;
  for (const model::TensorSpec& t : model::spectrostream_tensors(c)) {
    std::size_t count = 1;
    std::string shape;
    for (std::size_t d : t.shape) {
      count *= d;
      shape += (shape.empty() ? "" : ",") + std::to_string(d);
    }
    const std::size_t begin = data.size() * 4;
    data.resize(data.size() + count);
    fill_random(rng, t.shape, data.data() + data.size() - count, count);
    header += (header.size() > 1 ? "," : "") + ("\"" + t.name + "\":{\"dtype\":\"F32\",\"shape\":[") + shape +
              "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size() * 4) + "]}";
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  const std::uint64_t length = header.size();
  std::ofstream file(dir / "codec.safetensors", std::ios::binary);
  file.write(reinterpret_cast<const char*>(&length), 8);  // little-endian host
  file << header;
  file.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
  std::ofstream(dir / "model.toml") << manifest(c);
}

// CPU time of the calling thread: the container is shared, so wall time includes waits.
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[i];
}

// ---- Whole decoder ------------------------------------------------------------------------

void bench_decoder(const model::SpectroStreamConfig& c, int frames) {
  char tmpl[] = "/tmp/bench_codec.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  const std::filesystem::path dir = tmpl;
  write_package(dir, c);
  {
    const model::ModelPackage package = model::ModelPackage::open(dir);
    model::SpectroStreamDecoder decoder(package);
    std::mt19937 rng(2);
    std::uniform_int_distribution<int> code(0, c.codebook - 1);
    std::vector<float> out(2 * static_cast<std::size_t>(decoder.frame_samples()));
    std::vector<double> times, cpu_times;
    double peak = 0;
    for (int i = 0; i < frames + 3; ++i) {
      model::FrameCodes codes{};
      for (int& k : codes) k = code(rng);
      const double cpu_start = thread_cpu_ms();
      decoder.decode(codes, out);
      if (i >= 3) {  // 3 warm-up frames
        times.push_back(ms(decoder.last_decode_time()));
        cpu_times.push_back(thread_cpu_ms() - cpu_start);
      }
      for (float v : out) peak = std::max(peak, static_cast<double>(std::fabs(v)));
    }
    std::printf("decoder (real shapes, random weights): %d frames of %.0f ms, peak |x| %.3g\n", frames,
                1000.0 * c.frame_samples / c.sample_rate, peak);
    std::printf("  wall ms/frame        p50 %7.1f  p99 %7.1f\n", percentile(times, 0.5), percentile(times, 0.99));
    std::printf("  thread CPU ms/frame  p50 %7.1f  p99 %7.1f  (what a shared machine does not take away)\n\n",
                percentile(cpu_times, 0.5), percentile(cpu_times, 0.99));
  }
  std::filesystem::remove_all(dir);
}

// ---- Ops one by one -----------------------------------------------------------------------

struct Op {
  std::string name;  // block.part
  std::string kind;  // conv2d, conv_transpose2d, elu, upsample2d
  int calls = 1;     // per frame (channel groups)
  std::function<void()> run;
};

std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float bound) {
  std::vector<float> v(n);
  std::uniform_real_distribution<float> dist(-bound, bound);
  for (float& x : v) x = dist(rng);
  return v;
}

// Ops own their buffers through shared storage captured by the closures.
struct Storage {
  std::vector<std::unique_ptr<std::vector<float>>> all;
  float* make(std::vector<float> v) {
    all.push_back(std::make_unique<std::vector<float>>(std::move(v)));
    return all.back()->data();
  }
  std::vector<std::unique_ptr<std::vector<double>>> states;  // zeros, for ops keeping state in double
  double* make_state(std::size_t n) {
    states.push_back(std::make_unique<std::vector<double>>(n, 0.0));
    return states.back()->data();
  }
};

// A [kt, kf, cin, cout] kernel and its bias, scaled so activations stay near unit size.
std::pair<kernels::WeightView, kernels::WeightView> random_kernel(Storage& s, std::mt19937& rng, int kt, int kf,
                                                                  int cin, int cout) {
  const std::size_t w = static_cast<std::size_t>(kt) * kf * cin * cout;
  const float bound = std::sqrt(3.0f / static_cast<float>(kt * kf * cin));
  const kernels::WeightView weight{s.make(random_floats(rng, w, bound)), kernels::DType::f32, w};
  const kernels::WeightView bias{s.make(random_floats(rng, static_cast<std::size_t>(cout), 0.05f)),
                                 kernels::DType::f32, static_cast<std::size_t>(cout)};
  return {weight, bias};
}

Op conv_op(Storage& s, std::mt19937& rng, const std::string& name, kernels::Conv2dShape sh, int calls) {
  const auto [weight, bias] = random_kernel(s, rng, sh.kt, sh.kf, sh.cin, sh.cout);
  float* history = s.make(std::vector<float>(kernels::conv2d_history_size(sh)));
  float* scratch = s.make(std::vector<float>(kernels::conv2d_scratch_size(sh)));
  const float* x = s.make(random_floats(rng, static_cast<std::size_t>(sh.frames) * sh.freq * sh.cin, 1.0f));
  float* y = s.make(std::vector<float>(static_cast<std::size_t>(sh.frames) * sh.freq * sh.cout));
  return {name, "conv2d", calls, [=] { kernels::conv2d(sh, weight, bias, history, x, scratch, y); }};
}

Op up_op(Storage& s, std::mt19937& rng, const std::string& name, kernels::ConvTranspose2dShape sh, int calls) {
  const auto [weight, bias] = random_kernel(s, rng, sh.kt, sh.kf, sh.cin, sh.cout);
  float* overlap = s.make(std::vector<float>(kernels::conv_transpose2d_overlap_size(sh)));
  float* scratch = s.make(std::vector<float>(kernels::conv_transpose2d_scratch_size(sh)));
  const float* x = s.make(random_floats(rng, static_cast<std::size_t>(sh.frames) * sh.freq * sh.cin, 1.0f));
  float* y = s.make(
      std::vector<float>(static_cast<std::size_t>(sh.frames) * sh.st * sh.freq * sh.sf * sh.cout));
  // The overlap would grow without bound over many calls: reset it each call (cheap).
  const std::size_t open = kernels::conv_transpose2d_overlap_size(sh);
  return {name, "conv_transpose2d", calls, [=] {
            std::fill(overlap, overlap + open, 0.0f);
            kernels::conv_transpose2d(sh, weight, bias, overlap, x, scratch, y);
          }};
}

Op elu_op(Storage& s, std::mt19937& rng, const std::string& name, std::size_t n, int calls) {
  const float* x = s.make(random_floats(rng, n, 2.0f));
  float* y = s.make(std::vector<float>(n));
  return {name, "elu", calls, [=] { kernels::elu(n, x, y); }};
}

Op upsample_op(Storage& s, std::mt19937& rng, const std::string& name, kernels::Upsample2dShape sh, int calls) {
  const float* x = s.make(random_floats(rng, static_cast<std::size_t>(sh.frames) * sh.freq * sh.channels, 1.0f));
  float* y = s.make(
      std::vector<float>(static_cast<std::size_t>(sh.frames) * sh.st * sh.freq * sh.sf * sh.channels));
  return {name, "upsample2d", calls, [=] { kernels::upsample2d_add(sh, x, y); }};
}

// continuo's phase_accumulate output mode on one token frame's spectrum (both groups); the
// running phase wraps, so it needs no reset between calls.
Op phase_op(Storage& s, std::mt19937& rng, const model::SpectroStreamConfig& c) {
  const kernels::PhaseAccumulateShape sh{c.fft_size, c.splits, c.stft_frames()};
  double* phase = s.make_state(kernels::phase_accumulate_state_size(sh));
  float* x = s.make(random_floats(rng, static_cast<std::size_t>(sh.channels) * sh.frames * sh.fft_size, 1.0f));
  return {"output.phase_accumulate", "phase_accumulate", 1, [=] { kernels::phase_accumulate(sh, 0, phase, x); }};
}

// continuo's peak_phase output mode on the same spectrum.
Op peak_op(Storage& s, std::mt19937& rng, const model::SpectroStreamConfig& c) {
  const kernels::PeakPhaseShape sh{c.fft_size, c.splits, c.stft_frames()};
  double* psi = s.make_state(kernels::peak_phase_state_size(sh));
  float* scratch = s.make(std::vector<float>(kernels::peak_phase_scratch_size(sh)));
  float* x = s.make(random_floats(rng, static_cast<std::size_t>(sh.channels) * sh.frames * sh.fft_size, 1.0f));
  return {"output.peak_phase", "peak_phase", 1, [=] { kernels::peak_phase(sh, 0, psi, scratch, x); }};
}

// The decoder's op sequence for one token frame (model/spectrostream.cpp), shapes per group.
std::vector<Op> decoder_ops(Storage& s, const model::SpectroStreamConfig& c) {
  std::mt19937 rng(3);
  std::vector<Op> ops;
  const int projected = c.input_bins * c.input_channels;
  const auto projected_n = static_cast<std::size_t>(projected);
  ops.push_back(conv_op(s, rng, "input.proj", {1, 1, c.features, projected, 1, 0, 1}, 1));
  ops.push_back(conv_op(s, rng, "input.b1", {1, 1, c.features, projected, 1, 0, 1}, 1));
  ops.push_back(elu_op(s, rng, "input.elu", projected_n, 3));
  ops.push_back(conv_op(s, rng, "input.b2", {1, 1, projected, projected, 1, 0, 1}, 1));
  const kernels::Conv2dShape unit{3, 3, c.input_channels, c.input_channels, c.input_bins, 1, 1};
  ops.push_back(conv_op(s, rng, "input.res_a", unit, 1));
  ops.push_back(conv_op(s, rng, "input.res_b", unit, 1));
  int frames = 1;
  int freq = c.input_bins;
  for (int i = 0; i < static_cast<int>(c.blocks.size()); ++i) {
    const auto& b = c.blocks[static_cast<std::size_t>(i)];
    const std::string name = "block" + std::to_string(i);
    const int cin = c.group_input_channels(i);
    const int groups = c.groups_of(i);
    const int kt = model::SpectroStreamConfig::resample_kernel(b.time_stride);
    const int kf = model::SpectroStreamConfig::resample_kernel(b.freq_stride);
    const int out_frames = frames * b.time_stride;
    const int out_freq = freq * b.freq_stride;
    const auto in_n = static_cast<std::size_t>(frames) * freq * cin;
    const auto out_n = static_cast<std::size_t>(out_frames) * out_freq * b.channels;
    ops.push_back(elu_op(s, rng, name + ".elu_in", in_n, groups));
    ops.push_back(up_op(s, rng, name + ".up",
                        {kt, kf, b.time_stride, b.freq_stride, cin, b.channels, freq,
                         kernels::conv_transpose_same_pad(kf, b.freq_stride), frames},
                        groups));
    ops.push_back(elu_op(s, rng, name + ".elu_mid", out_n, groups));
    ops.push_back(conv_op(s, rng, name + ".conv", {3, 3, b.channels, b.channels, out_freq, 1, out_frames}, groups));
    if (c.has_skip(i)) ops.push_back(conv_op(s, rng, name + ".skip", {1, 1, cin, b.channels, freq, 0, frames}, groups));
    ops.push_back(upsample_op(s, rng, name + ".upsample", {frames, freq, b.channels, b.time_stride, b.freq_stride},
                              groups));
    frames = out_frames;
    freq = out_freq;
  }
  const int k = c.output_kernel;
  const int last = c.blocks.back().channels;
  ops.push_back(elu_op(s, rng, "output.elu", static_cast<std::size_t>(frames) * freq * last, c.splits));
  ops.push_back(conv_op(s, rng, "output.conv", {k, k, last, c.channels / c.splits, c.bins, (k - 1) / 2, frames},
                        c.splits));
  return ops;
}

// Median of per-call times over ≥ 20 calls or ≥ 0.2 s, times the calls per frame.
double ms_per_frame(Op& op) {
  op.run();  // warm-up
  std::vector<double> t;
  const auto until = Clock::now() + std::chrono::milliseconds(200);
  while (t.size() < 20 || (Clock::now() < until && t.size() < 2000)) {
    const auto start = Clock::now();
    op.run();
    t.push_back(ms(Clock::now() - start));
  }
  return percentile(t, 0.5) * op.calls;
}

void bench_ops(const model::SpectroStreamConfig& c) {
  Storage storage;
  std::vector<Op> ops = decoder_ops(storage, c);
  std::map<std::string, double> per_kind;
  double total = 0;
  std::printf("%-20s %-17s %6s %10s\n", "op", "kind", "calls", "ms/frame");
  for (Op& op : ops) {
    const double per_frame = ms_per_frame(op);
    per_kind[op.kind] += per_frame;
    total += per_frame;
    std::printf("%-20s %-17s %6d %10.3f\n", op.name.c_str(), op.kind.c_str(), op.calls, per_frame);
  }
  std::printf("\nper op kind (ms/frame, medians summed):\n");
  for (const auto& [kind, t] : per_kind) std::printf("  %-17s %8.2f\n", kind.c_str(), t);
  std::printf("  %-17s %8.2f\n", "total", total);
  std::mt19937 rng(4);
  Op phase = phase_op(storage, rng, c);
  std::printf("\ncodec_phase_accumulate = 1 would add (not in this config): %s %.3f ms/frame\n", phase.name.c_str(),
              ms_per_frame(phase));
  Op peak = peak_op(storage, rng, c);
  std::printf("codec_peak_phase = 1 would add (not in this config): %s %.3f ms/frame\n", peak.name.c_str(),
              ms_per_frame(peak));
}

}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  const model::SpectroStreamConfig c = real_config();
  bench_decoder(c, frames);
  if (argc <= 2 || std::string(argv[2]) != "decoder") bench_ops(c);
  return 0;
}
