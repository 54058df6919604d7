#include <cstddef>
#include <stdexcept>

#include "kernels/conv2d/conv2d_cuda.hpp"
#include "kernels/conv2d_strided/conv2d_strided_cuda.hpp"

namespace continuo::kernels::cuda {

namespace {

// y[τ, o] = Σ in[st·τ − (kt − st) + i, sf·o − pad_left + j] · W[i, j]: one phase.
detail::ConvGemm strided_gemm(const Conv2dStridedShape& s) {
  detail::ConvGemm g;
  g.history_rows = s.kt - s.st;
  g.frames = s.frames;
  g.freq = s.freq;
  g.cin = s.cin;
  g.row_stride = s.st;
  g.col_stride = s.sf;
  g.kf = s.kf;
  g.cout = s.cout;
  g.out_cols = conv2d_strided_out_freq(s);
  g.emitted_rows = s.frames / s.st;
  g.phases = 1;
  g.phase[0] = {0, 0, s.kt, s.kf, -(s.kt - s.st), -s.pad_left, 0, 0, s.frames / s.st, g.out_cols};
  return g;
}

}  // namespace

std::size_t conv2d_strided_cuda_scratch_size(const Conv2dStridedShape& s) {
  return detail::conv_gemm_scratch_size(strided_gemm(s));
}

void conv2d_strided(cudaStream_t stream, const Conv2dStridedShape& s, DeviceWeightView weight,
                    DeviceWeightView bias, float* history, const float* x, float* scratch, float* y) {
  if (s.kt < 1 || s.kf < 1 || s.st < 1 || s.sf < 1 || s.cin < 1 || s.cout < 1 || s.freq < 1 || s.frames < 1 ||
      s.pad_left < 0 || s.pad_right < 0 || s.kt < s.st || s.frames % s.st != 0 || conv2d_strided_out_freq(s) < 1) {
    throw std::invalid_argument("conv2d_strided: bad shape (needs kt >= st and frames a multiple of st)");
  }
  detail::check_conv_weights("conv2d_strided", weight, static_cast<std::size_t>(s.kt) * s.kf * s.cin * s.cout,
                             bias, s.cout);
  if (x == nullptr || y == nullptr || (s.kt > s.st && history == nullptr)) {
    throw std::invalid_argument("conv2d_strided: null tensor");
  }
  detail::ConvGemm g = strided_gemm(s);
  g.x = x;
  g.history = history;
  g.weight = weight;
  g.bias = bias;
  g.y = y;
  g.partial = scratch;
  detail::conv_gemm(stream, g);
  detail::shift_history(stream, s.kt - s.st, static_cast<std::size_t>(s.freq) * s.cin, s.frames, x, history);
}

}  // namespace continuo::kernels::cuda
