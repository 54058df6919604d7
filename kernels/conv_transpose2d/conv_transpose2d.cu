#include <cstddef>
#include <stdexcept>

#include "kernels/conv2d/conv2d_cuda.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

// The smallest r ≥ 0 with r ≡ value (mod m).
int residue(int value, int m) { return ((value % m) + m) % m; }

// Output pixel (n, o) = (st·m + pn, sf·mc + po) receives x[τ, i]·W[a, b] for
// n = st·τ + kt − 1 − a and o = sf·i + pad_left − b: a ≡ kt − 1 − pn (mod st), τ = m + u + δr
// for a = a0 + st·u; b ≡ pad_left − po (mod sf), i = mc + v + δc for b = b0 + sf·v.
detail::ConvPhase phase(const ConvTranspose2dShape& s, int pn, int po) {
  detail::ConvPhase p;
  p.a0 = residue(s.kt - 1 - pn, s.st);
  p.b0 = residue(s.pad_left - po, s.sf);
  p.taps_t = (s.kt - p.a0 + s.st - 1) / s.st;
  p.taps_f = p.b0 < s.kf ? (s.kf - p.b0 + s.sf - 1) / s.sf : 0;
  p.row_offset = (pn - s.kt + 1 + p.a0) / s.st;  // exact: the numerator is a multiple of st
  p.col_offset = (po - s.pad_left + p.b0) / s.sf;
  p.out_row0 = pn;
  p.out_col0 = po;
  const int span = (s.frames - 1) * s.st + s.kt;  // output frames this call reaches
  p.rows = (span - pn + s.st - 1) / s.st;
  p.cols = s.freq;
  return p;
}

// The phases and sizes of a call; pointers are set by the caller.
detail::ConvGemm transpose_gemm(const ConvTranspose2dShape& s) {
  detail::ConvGemm g;
  g.frames = s.frames;
  g.freq = s.freq;
  g.cin = s.cin;
  g.tap_step_t = s.st;
  g.tap_step_f = s.sf;
  g.kf = s.kf;
  g.cout = s.cout;
  g.out_row_step = s.st;
  g.out_col_step = s.sf;
  g.out_cols = s.freq * s.sf;
  g.open_rows = s.kt - s.st;
  g.emitted_rows = s.frames * s.st;
  g.phases = s.st * s.sf;
  for (int pn = 0; pn < s.st; ++pn) {
    for (int po = 0; po < s.sf; ++po) g.phase[pn * s.sf + po] = phase(s, pn, po);
  }
  return g;
}

}  // namespace

std::size_t conv_transpose2d_cuda_scratch_size(const ConvTranspose2dShape& s) {
  return conv_transpose2d_overlap_size(s) + detail::conv_gemm_scratch_size(transpose_gemm(s));
}

void conv_transpose2d(cudaStream_t stream, const ConvTranspose2dShape& s, DeviceWeightView weight,
                      DeviceWeightView bias, float* overlap, const float* x, float* scratch, float* y) {
  if (s.kt < 1 || s.kf < 1 || s.st < 1 || s.sf < 1 || s.cin < 1 || s.cout < 1 || s.freq < 1 || s.frames < 1 ||
      s.kt < s.st || s.st * s.sf > detail::kMaxConvPhases) {
    throw std::invalid_argument("conv_transpose2d: bad shape (needs kt >= st and st·sf <= 16)");
  }
  detail::check_conv_weights("conv_transpose2d", weight, static_cast<std::size_t>(s.kt) * s.kf * s.cin * s.cout,
                             bias, s.cout);
  const std::size_t open = conv_transpose2d_overlap_size(s);
  if (x == nullptr || y == nullptr || (open != 0 && overlap == nullptr) ||
      (conv_transpose2d_cuda_scratch_size(s) != 0 && scratch == nullptr)) {
    throw std::invalid_argument("conv_transpose2d: null tensor");
  }
  detail::ConvGemm g = transpose_gemm(s);
  g.x = x;
  g.weight = weight;
  g.bias = bias;
  g.open = overlap;
  g.y = y;
  g.tail = scratch;
  g.partial = scratch + open;
  detail::conv_gemm(stream, g);
  if (open != 0) {
    CONTINUO_CUDA_CHECK(
        cudaMemcpyAsync(overlap, scratch, open * sizeof(float), cudaMemcpyDeviceToDevice, stream));
  }
}

}  // namespace continuo::kernels::cuda
