#pragma once

// Every model op, one folder each: <op>/<op>.hpp declares it, <op>/<op>_cpu.cpp is the CPU
// reference, <op>/<op>.cu its CUDA twin. docs/kernels.md describes layouts and semantics.
#include "kernels/attention/attention.hpp"
#include "kernels/conv2d/conv2d.hpp"
#include "kernels/conv_transpose2d/conv_transpose2d.hpp"
#include "kernels/dense/dense.hpp"
#include "kernels/elu/elu.hpp"
#include "kernels/embedding/embedding.hpp"
#include "kernels/ffn/ffn.hpp"
#include "kernels/fft/fft.hpp"
#include "kernels/istft/istft.hpp"
#include "kernels/layer_norm/layer_norm.hpp"
#include "kernels/rms_norm/rms_norm.hpp"
#include "kernels/rvq_decode/rvq_decode.hpp"
#include "kernels/sample/sample.hpp"
#include "kernels/softcap/softcap.hpp"
#include "kernels/tensor.hpp"
#include "kernels/upsample2d/upsample2d.hpp"
