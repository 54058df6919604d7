#pragma once

// Every model op, one folder each: <op>/<op>.hpp declares it, <op>/<op>_cpu.cpp is the CPU
// reference, <op>/<op>.cu its CUDA twin. docs/kernels.md describes layouts and semantics.
#include "kernels/attention/attention.hpp"
#include "kernels/dense/dense.hpp"
#include "kernels/embedding/embedding.hpp"
#include "kernels/ffn/ffn.hpp"
#include "kernels/layer_norm/layer_norm.hpp"
#include "kernels/rms_norm/rms_norm.hpp"
#include "kernels/sample/sample.hpp"
#include "kernels/softcap/softcap.hpp"
#include "kernels/tensor.hpp"
