// Part 2 of the CUDA parity test for the codec's elementwise and stencil ops: ELU, the
// upsampling residual add and average pooling, each against its CPU op on fresh random
// inputs at SpectroStream's shapes (docs/spectrostream.md) and odd ones.
// ELU: tolerance kTolerance (the CPU's expm1 polynomial and the device's expm1f agree to a few
// 1e-7). Upsampling and pooling perform the CPU's float operations in its order: compared bit
// for bit (h::max_abs_difference, tolerance 0).
#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "kernels/avg_pool2d/avg_pool2d_cuda.hpp"
#include "kernels/elu/elu_cuda.hpp"
#include "kernels/upsample2d/upsample2d_cuda.hpp"
#include "tests/cuda/support.hpp"

namespace continuo::cuda_test {
namespace {

// x spans both branches and includes tiny magnitudes (expm1's cancellation region).
void elu_case(Report& r, h::Rng& rng, std::size_t n, bool in_place) {
  auto x = h::uniform(rng, n, -6.0f, 3.0f);
  for (std::size_t i = 0; i < n; i += 7) x[i] *= 1e-5f;
  std::vector<float> want(n);
  k::elu(n, x.data(), want.data());
  const auto dx = upload(x.data(), n);
  std::size_t bad = 0;
  std::vector<float> got;
  if (in_place) {
    cu::elu(nullptr, n, dx.data, dx.data);
    got = download(dx, n);
  } else {
    Poisoned<float> y(n);
    cu::elu(nullptr, n, dx.data, y.data());
    got = y.read(bad);
  }
  r.record("elu_n" + std::to_string(n) + (in_place ? "_in_place" : ""), relative_error(got, want),
           kTolerance, bad + nonfinite(got));
}

std::string shape_name(int frames, int freq, int channels, int st, int sf) {
  return "_t" + std::to_string(frames) + "_f" + std::to_string(freq) + "_c" +
         std::to_string(channels) + "_s" + std::to_string(st) + "x" + std::to_string(sf);
}

void upsample_case(Report& r, h::Rng& rng, const k::Upsample2dShape& s) {
  const auto in = static_cast<std::size_t>(s.frames) * s.freq * s.channels;
  const std::size_t out = in * static_cast<std::size_t>(s.st * s.sf);
  const auto x = h::uniform(rng, in, -1.0f, 1.0f);
  const auto y0 = h::uniform(rng, out, -1.0f, 1.0f);
  std::vector<float> want = y0;
  k::upsample2d_add(s, x.data(), want.data());
  const auto dx = upload(x.data(), in);
  Poisoned<float> y(out);
  y.fill(y0);
  cu::upsample2d_add(nullptr, s, dx.data, y.data());
  std::size_t bad = 0;
  const auto got = y.read(bad);
  r.record("upsample2d_add" + shape_name(s.frames, s.freq, s.channels, s.st, s.sf) + " (bits)",
           h::max_abs_difference(got, want), 0.0, bad + nonfinite(got));
}

void avg_pool_case(Report& r, h::Rng& rng, const k::AvgPool2dShape& s) {
  const auto in = static_cast<std::size_t>(s.frames) * s.freq * s.channels;
  const auto out = static_cast<std::size_t>(s.frames / s.st) * (s.freq / s.sf) * s.channels;
  const auto x = h::uniform(rng, in, -1.0f, 1.0f);
  std::vector<float> want(out);
  k::avg_pool2d(s, x.data(), want.data());
  const auto dx = upload(x.data(), in);
  Poisoned<float> y(out);
  cu::avg_pool2d(nullptr, s, dx.data, y.data());
  std::size_t bad = 0;
  const auto got = y.read(bad);
  r.record("avg_pool2d" + shape_name(s.frames, s.freq, s.channels, s.st, s.sf) + " (bits)",
           h::max_abs_difference(got, want), 0.0, bad + nonfinite(got));
}

}  // namespace

void fresh_codec_cases(Report& r, std::uint64_t seed) {
  h::Rng rng(seed ^ 0x3C6EF372FE94F82Bull);
  elu_case(r, rng, 5 * 512, false);              // the decoder's input projection
  elu_case(r, rng, 4 * 480 * 32, true);          // a full-resolution activation, in place
  elu_case(r, rng, std::size_t{1} << 20, false);  // more than the grid: grid-stride loop
  elu_case(r, rng, 3, false);
  //                      frames freq channels st sf
  upsample_case(r, rng, {1, 5, 512, 2, 1});   // decoder shortcuts, coarse to fine
  upsample_case(r, rng, {2, 10, 256, 2, 2});
  upsample_case(r, rng, {4, 40, 128, 1, 3});
  upsample_case(r, rng, {4, 240, 32, 1, 2});
  upsample_case(r, rng, {3, 7, 3, 1, 3});     // odd sizes
  upsample_case(r, rng, {2, 1, 1, 3, 5});
  avg_pool_case(r, rng, {4, 480, 32, 1, 2});  // encoder shortcuts, fine to coarse
  avg_pool_case(r, rng, {4, 80, 128, 1, 3});
  avg_pool_case(r, rng, {4, 20, 256, 2, 2});
  avg_pool_case(r, rng, {2, 5, 512, 2, 1});
  avg_pool_case(r, rng, {4, 7, 3, 2, 3});     // 7 bins / 3: the trailing bin is dropped
  avg_pool_case(r, rng, {6, 9, 1, 3, 3});
}

}  // namespace continuo::cuda_test
