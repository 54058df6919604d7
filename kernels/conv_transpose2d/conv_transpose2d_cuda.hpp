#pragma once

#include "kernels/conv_transpose2d/conv_transpose2d.hpp"
#include "kernels/cuda/cuda.hpp"

namespace continuo::kernels::cuda {

// The CUDA twin of conv_transpose2d (kernels/conv_transpose2d/conv_transpose2d.hpp): the same
// layouts, x [frames, freq, cin], y [frames·st, freq·sf, cout], weight [kt, kf, cin, cout]
// (fp32 or bf16), bias [cout] (count 0: none), overlap [kt − st, freq·sf, cout] (the open
// frames without bias, zeros after a reset), scratch conv_transpose2d_cuda_scratch_size
// floats (the new open frames, and split K's partial sums), all in device memory, none
// aliased. The overlap stays on the device: read, then replaced by this call's open frames
// (staged in scratch, then copied: a memcpy node).
// The scatter runs as gathers, one lattice phase per (output frame mod st, output bin mod sf),
// so no product with an inserted zero is computed. Each output is open + one fp32 FMA chain in
// (time tap, frequency tap, input channel) order, then + bias: the CPU's order. Enqueued on
// `stream`, no allocation (graph-safe). std::invalid_argument on a bad shape (kt < st,
// st·sf > 16) or weight size.
std::size_t conv_transpose2d_cuda_scratch_size(const ConvTranspose2dShape& shape);  // floats

void conv_transpose2d(cudaStream_t stream, const ConvTranspose2dShape& shape, DeviceWeightView weight,
                      DeviceWeightView bias, float* overlap, const float* x, float* scratch, float* y);

}  // namespace continuo::kernels::cuda
