#pragma once

#include <cstddef>

#include "kernels/conv2d_strided/conv2d_strided.hpp"
#include "kernels/cuda/cuda.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of conv2d_strided (kernels/conv2d_strided/conv2d_strided.hpp): the same
// layouts, x [frames, freq, cin] (frames a multiple of st), y [frames/st, out_freq, cout],
// weight [kt, kf, cin, cout] (fp32 or bf16), bias [cout] (count 0: none), history [kt − st,
// freq, cin], scratch conv2d_strided_cuda_scratch_size floats (split K; 0 for most shapes),
// all in device memory; y must not alias the others. The history stays on the device (read,
// then replaced by the last kt − st frames of (history, x)). Each output is bias + one fp32
// FMA chain in (time tap, frequency tap, input channel) order: conv2d's kernel
// (kernels/conv2d/conv2d.cu) with strides. Enqueued on `stream`, no allocation
// (graph-safe). std::invalid_argument on a bad shape (kt < st, frames not a multiple of st)
// or weight size.
std::size_t conv2d_strided_cuda_scratch_size(const Conv2dStridedShape& shape);  // floats

void conv2d_strided(cudaStream_t stream, const Conv2dStridedShape& shape, DeviceWeightView weight,
                    DeviceWeightView bias, float* history, const float* x, float* scratch, float* y);

}  // namespace continuo::kernels::cuda
