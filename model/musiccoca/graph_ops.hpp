#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "model/musiccoca/graph_value.hpp"

namespace continuo::model::musiccoca {

// The TFLite ops a converted MusicCoCa graph runs, on the CPU, with TFLite's semantics
// (tensorflow/lite/kernels/*). Each throws std::invalid_argument naming the mismatch when its
// operands do not fit; none reads out of bounds on any input.

enum class Binary { add, sub, mul, div, squared_difference, maximum };
// gelu: 0.5·x·(1 + erf(x/√2)); gelu_tanh: TFLite's approximate GELU (the tanh form).
enum class Unary { tanh, rsqrt, sqrt, gelu, gelu_tanh, log };
enum class Reduce { mean, sum };

// Elementwise with NumPy broadcasting (f32).
Value binary(Binary op, const Value& a, const Value& b);
Value unary(Unary op, const Value& x);
// Negative axes count from the end; repeated axes count once.
Value reduce(Reduce op, const Value& x, std::span<const std::int32_t> axes, bool keep_dims);
// x [..., in] (rows flattened), weight [out, in], bias [out] or empty -> [rows, out].
Value fully_connected(const Value& x, const Value& weight, const Value* bias);
// [..., M, K] x [..., K, N] (after the adjoints) -> [..., M, N]; batch dims broadcast.
Value batch_matmul(const Value& a, const Value& b, bool adj_a, bool adj_b);
// Softmax of beta * x over the last axis.
Value softmax(const Value& x, float beta);
Value reshape(const Value& x, const Dims& shape);
Value transpose(const Value& x, std::span<const std::int32_t> perm);
// Rows of params along `axis` picked by int32 indices (each checked against the axis size).
Value gather(const Value& params, const Value& indices, int axis);
// Index of the smallest value along `axis` (the first on ties), int32.
Value arg_min(const Value& x, int axis);
Value concatenation(std::span<const Value* const> parts, int axis);
// Zeros around x: paddings holds (before, after) per axis, int32 [rank, 2], each >= 0.
Value pad(const Value& x, const Value& paddings);

// STRIDED_SLICE without ellipsis or new axes: per axis, begin and end (negative counts from
// the end; clamped like TFLite), a non-zero stride; bit d of a mask applies to axis d.
struct SliceMasks {
  std::int32_t begin = 0, end = 0, shrink_axis = 0;  // begin/end: from the start/to the end
};
Value strided_slice(const Value& x, std::span<const std::int32_t> begin, std::span<const std::int32_t> end,
                    std::span<const std::int32_t> strides, SliceMasks masks);

// CONV_2D, NHWC: x [N, H, W, C], filter [O, KH, KW, C], bias [O] or none -> [N, OH, OW, O].
// SAME pads as TFLite does (the odd pixel after); VALID does not pad.
struct Conv2d {
  std::size_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  bool same_padding = false;
};
Value conv_2d(const Value& x, const Value& filter, const Value* bias, const Conv2d& geometry);

}  // namespace continuo::model::musiccoca
