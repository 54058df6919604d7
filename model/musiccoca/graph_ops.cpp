#include "model/musiccoca/graph_ops.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/dense/dense.hpp"

namespace continuo::model::musiccoca {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument(what); }

void need_floats(const Value& x, const char* op) {
  if (x.type != Value::Type::f32) fail(std::string(op) + ": needs an f32 tensor, got i32 " + format_dims(x.shape));
}

// Row-major strides of `shape`.
Dims strides_of(const Dims& shape) {
  Dims strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

std::size_t axis_index(int axis, std::size_t rank, const char* op) {
  const int r = static_cast<int>(rank);
  if (axis < -r || axis >= r) fail(std::string(op) + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

// Strides of `shape` seen from a broadcast result of rank `rank`: 0 where it broadcasts.
Dims broadcast_strides(const Dims& shape, const Dims& out) {
  const Dims own = strides_of(shape);
  Dims strides(out.size(), 0);
  const std::size_t lead = out.size() - shape.size();
  for (std::size_t d = 0; d < shape.size(); ++d) strides[lead + d] = shape[d] == 1 ? 0 : own[d];
  return strides;
}

Dims broadcast_shape(const Dims& a, const Dims& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Dims out(rank, 1);
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t da = d + a.size() >= rank ? a[d + a.size() - rank] : 1;
    const std::size_t db = d + b.size() >= rank ? b[d + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) fail(std::string(op) + ": shapes " + format_dims(a) + " and " + format_dims(b) + " do not broadcast");
    out[d] = da == 1 ? db : da;
  }
  return out;
}

// Offset into a tensor with `strides` of the element at flat index `flat` of `shape`.
std::size_t offset_of(std::size_t flat, const Dims& shape, const Dims& strides) {
  std::size_t offset = 0;
  for (std::size_t d = shape.size(); d-- > 0;) {
    offset += (flat % shape[d]) * strides[d];
    flat /= shape[d];
  }
  return offset;
}

float apply_binary(Binary op, float x, float y) {
  switch (op) {
    case Binary::add: return x + y;
    case Binary::sub: return x - y;
    case Binary::mul: return x * y;
    case Binary::div: return x / y;
    case Binary::squared_difference: return (x - y) * (x - y);
    case Binary::maximum: return x > y ? x : y;  // TFLite's MaximumOp, NaN and all
  }
  return 0.0f;
}

float apply_unary(Unary op, float x) {
  constexpr float kSqrtTwoOverPi = 0.7978845608028654f;
  switch (op) {
    case Unary::tanh: return std::tanh(x);
    case Unary::rsqrt: return 1.0f / std::sqrt(x);
    case Unary::sqrt: return std::sqrt(x);
    case Unary::gelu: return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
    case Unary::gelu_tanh: return 0.5f * x * (1.0f + std::tanh(kSqrtTwoOverPi * (x + 0.044715f * x * x * x)));
    case Unary::log: return std::log(x);
  }
  return 0.0f;
}

// A result no graph of MusicCoCa's size comes near; refusing it keeps a malformed graph from
// asking for gigabytes before its declared shape is checked.
constexpr std::size_t kMaxElements = std::size_t{1} << 26;

Value zeros(Value::Type type, Dims shape, const char* op) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > kMaxElements / d) fail(std::string(op) + ": result " + format_dims(shape) + " is too large");
    n *= d;
  }
  Value out;
  out.type = type;
  out.shape = std::move(shape);
  if (type == Value::Type::f32) out.f.assign(n, 0.0f); else out.i.assign(n, 0);
  return out;
}

// Copies element `from` of x to element `to` of out (same type).
void copy_element(const Value& x, std::size_t from, Value& out, std::size_t to) {
  if (x.type == Value::Type::f32) out.f[to] = x.f[from]; else out.i[to] = x.i[from];
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// One axis of a strided slice: where it starts, its step, how many elements it takes.
struct SliceAxis {
  std::int64_t start = 0, step = 1, count = 0;
};

SliceAxis slice_axis(std::int64_t dim, std::int32_t begin, std::int32_t end, std::int32_t stride, bool all_from_begin,
                     bool all_to_end, bool shrink) {
  if (stride == 0) fail("strided_slice: a stride of 0");
  if (shrink) {
    const std::int64_t at = begin < 0 ? begin + dim : begin;
    if (at < 0 || at >= dim) fail("strided_slice: index " + std::to_string(begin) + " out of range for size " + std::to_string(dim));
    return {at, 1, 1};
  }
  const bool forward = stride > 0;
  // TFLite's clamping (kernels/internal/strided_slice_logic.h): [0, dim] forward, [-1, dim - 1] backward.
  const auto clamp = [&](std::int64_t v) {
    if (v < 0) v += dim;
    return forward ? std::clamp<std::int64_t>(v, 0, dim) : std::clamp<std::int64_t>(v, -1, dim - 1);
  };
  const std::int64_t start = all_from_begin ? (forward ? 0 : dim - 1) : clamp(begin);
  const std::int64_t stop = all_to_end ? (forward ? dim : -1) : clamp(end);
  const std::int64_t count = forward ? ceil_div(stop - start, stride) : ceil_div(start - stop, -std::int64_t{stride});
  return {start, stride, std::max<std::int64_t>(count, 0)};
}

// Where a SAME-padded window starts before the input (TFLite's ComputePaddingWithOffset),
// and how many outputs an axis gives.
struct ConvAxis {
  std::size_t out = 0, pad_before = 0;
};

ConvAxis conv_axis(std::size_t in, std::size_t kernel, std::size_t stride, std::size_t dilation, bool same) {
  const std::size_t span = (kernel - 1) * dilation + 1;
  if (same) {
    const std::size_t out = (in + stride - 1) / stride;
    const std::size_t needed = (out - 1) * stride + span;
    return {out, needed > in ? (needed - in) / 2 : 0};
  }
  if (in < span) fail("conv_2d: a window of " + std::to_string(span) + " does not fit an input of " + std::to_string(in));
  return {(in - span) / stride + 1, 0};
}

}  // namespace

Value binary(Binary op, const Value& a, const Value& b) {
  need_floats(a, "binary op");
  need_floats(b, "binary op");
  const Dims shape = broadcast_shape(a.shape, b.shape, "binary op");
  const Dims sa = broadcast_strides(a.shape, shape), sb = broadcast_strides(b.shape, shape);
  std::vector<float> out(element_count(shape));
  for (std::size_t n = 0; n < out.size(); ++n) {
    const float x = a.f[offset_of(n, shape, sa)], y = b.f[offset_of(n, shape, sb)];
    out[n] = apply_binary(op, x, y);
  }
  return Value::floats(shape, std::move(out));
}

Value unary(Unary op, const Value& x) {
  need_floats(x, "unary op");
  std::vector<float> out(x.f.size());
  for (std::size_t n = 0; n < out.size(); ++n) out[n] = apply_unary(op, x.f[n]);
  return Value::floats(x.shape, std::move(out));
}

Value reduce(Reduce op, const Value& x, std::span<const std::int32_t> axes, bool keep_dims) {
  need_floats(x, "reduce");
  std::vector<bool> reduced(x.shape.size(), false);
  for (const std::int32_t axis : axes) reduced[axis_index(axis, x.shape.size(), "reduce")] = true;
  Dims kept = x.shape, out_shape;
  std::size_t folded = 1;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (reduced[d]) {
      folded *= x.shape[d];
      kept[d] = 1;
      if (keep_dims) out_shape.push_back(1);
    } else {
      out_shape.push_back(x.shape[d]);
    }
  }
  const Dims to_out = broadcast_strides(kept, x.shape);
  std::vector<float> out(element_count(kept), 0.0f);
  for (std::size_t n = 0; n < x.f.size(); ++n) out[offset_of(n, x.shape, to_out)] += x.f[n];
  if (op == Reduce::mean && folded > 0) {
    for (float& v : out) v /= static_cast<float>(folded);
  }
  return Value::floats(out_shape, std::move(out));
}

Value fully_connected(const Value& x, const Value& weight, const Value* bias) {
  need_floats(x, "fully_connected");
  need_floats(weight, "fully_connected weight");
  if (weight.shape.size() != 2) fail("fully_connected: weight " + format_dims(weight.shape) + " is not [out, in]");
  const kernels::DenseShape shape{weight.shape[1], weight.shape[0]};
  if (shape.in == 0 || x.count() % shape.in != 0) {
    fail("fully_connected: input " + format_dims(x.shape) + " is not rows of " + std::to_string(shape.in));
  }
  kernels::WeightView b{};
  if (bias != nullptr) {
    need_floats(*bias, "fully_connected bias");
    if (bias->count() != shape.out) fail("fully_connected: bias " + format_dims(bias->shape) + " for " + std::to_string(shape.out) + " outputs");
    b = {bias->f.data(), kernels::DType::f32, bias->f.size()};
  }
  const kernels::WeightView w{weight.f.data(), kernels::DType::f32, weight.f.size()};
  const std::size_t rows = x.count() / shape.in;
  std::vector<float> out(rows * shape.out);
  for (std::size_t r = 0; r < rows; ++r) kernels::dense(shape, w, b, x.f.data() + r * shape.in, out.data() + r * shape.out);
  return Value::floats({rows, shape.out}, std::move(out));
}

Value batch_matmul(const Value& a, const Value& b, bool adj_a, bool adj_b) {
  need_floats(a, "batch_matmul");
  need_floats(b, "batch_matmul");
  if (a.shape.size() < 2 || b.shape.size() < 2) fail("batch_matmul: operands need rank 2 or more");
  const Dims batch_a(a.shape.begin(), a.shape.end() - 2), batch_b(b.shape.begin(), b.shape.end() - 2);
  const Dims batch = broadcast_shape(batch_a, batch_b, "batch_matmul");
  const std::size_t ar = a.shape[a.shape.size() - 2], ac = a.shape.back();
  const std::size_t br = b.shape[b.shape.size() - 2], bc = b.shape.back();
  const std::size_t m = adj_a ? ac : ar, k = adj_a ? ar : ac, n = adj_b ? br : bc;
  if ((adj_b ? bc : br) != k) fail("batch_matmul: " + format_dims(a.shape) + " and " + format_dims(b.shape) + " do not multiply");
  // Batch offsets in units of whole matrices.
  const Dims step_a = broadcast_strides(batch_a, batch), step_b = broadcast_strides(batch_b, batch);
  const std::size_t batches = element_count(batch);
  std::vector<float> out(batches * m * n, 0.0f);
  for (std::size_t t = 0; t < batches; ++t) {
    const float* pa = a.f.data() + offset_of(t, batch, step_a) * ar * ac;
    const float* pb = b.f.data() + offset_of(t, batch, step_b) * br * bc;
    float* po = out.data() + t * m * n;
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        float acc = 0.0f;
        for (std::size_t l = 0; l < k; ++l) {
          acc += (adj_a ? pa[l * ac + i] : pa[i * ac + l]) * (adj_b ? pb[j * bc + l] : pb[l * bc + j]);
        }
        po[i * n + j] = acc;
      }
    }
  }
  Dims shape = batch;
  shape.push_back(m);
  shape.push_back(n);
  return Value::floats(shape, std::move(out));
}

Value softmax(const Value& x, float beta) {
  need_floats(x, "softmax");
  if (x.shape.empty() || x.shape.back() == 0) fail("softmax: input " + format_dims(x.shape) + " has no last axis");
  const std::size_t width = x.shape.back();
  std::vector<float> out(x.f.size());
  for (std::size_t row = 0; row < x.f.size(); row += width) {
    const float top = *std::max_element(x.f.begin() + static_cast<std::ptrdiff_t>(row), x.f.begin() + static_cast<std::ptrdiff_t>(row + width));
    float total = 0.0f;
    for (std::size_t c = 0; c < width; ++c) total += out[row + c] = std::exp(beta * (x.f[row + c] - top));
    for (std::size_t c = 0; c < width; ++c) out[row + c] /= total;
  }
  return Value::floats(x.shape, std::move(out));
}

Value reshape(const Value& x, const Dims& shape) {
  if (element_count(shape) != x.count()) fail("reshape: " + format_dims(x.shape) + " cannot become " + format_dims(shape));
  Value out = x;
  out.shape = shape;
  return out;
}

Value transpose(const Value& x, std::span<const std::int32_t> perm) {
  const std::size_t rank = x.shape.size();
  if (perm.size() != rank) fail("transpose: permutation of " + std::to_string(perm.size()) + " axes for rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  Dims shape(rank), from(rank);
  const Dims strides = strides_of(x.shape);
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t axis = axis_index(perm[d], rank, "transpose");
    if (seen[axis]) fail("transpose: axis " + std::to_string(axis) + " repeated in the permutation");
    seen[axis] = true;
    shape[d] = x.shape[axis];
    from[d] = strides[axis];
  }
  Value out;
  out.type = x.type;
  out.shape = shape;
  const std::size_t n = x.count();
  if (x.type == Value::Type::f32) out.f.resize(n); else out.i.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t src = offset_of(k, shape, from);
    if (x.type == Value::Type::f32) out.f[k] = x.f[src]; else out.i[k] = x.i[src];
  }
  return out;
}

Value gather(const Value& params, const Value& indices, int axis) {
  if (indices.type != Value::Type::i32) fail("gather: indices must be int32");
  const std::size_t a = axis_index(axis, params.shape.size(), "gather");
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= params.shape[d];
  for (std::size_t d = a + 1; d < params.shape.size(); ++d) inner *= params.shape[d];
  const std::size_t size = params.shape[a];
  Dims shape(params.shape.begin(), params.shape.begin() + static_cast<std::ptrdiff_t>(a));
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), params.shape.begin() + static_cast<std::ptrdiff_t>(a) + 1, params.shape.end());
  for (const std::int32_t index : indices.i) {
    if (index < 0 || static_cast<std::size_t>(index) >= size) {
      fail("gather: index " + std::to_string(index) + " out of range [0, " + std::to_string(size) + ")");
    }
  }
  Value out;
  out.type = params.type;
  out.shape = shape;
  const bool floats = params.type == Value::Type::f32;
  for (std::size_t o = 0; o < outer; ++o) {
    for (const std::int32_t index : indices.i) {
      const std::size_t begin = (o * size + static_cast<std::size_t>(index)) * inner;
      if (floats) out.f.insert(out.f.end(), params.f.begin() + static_cast<std::ptrdiff_t>(begin), params.f.begin() + static_cast<std::ptrdiff_t>(begin + inner));
      else out.i.insert(out.i.end(), params.i.begin() + static_cast<std::ptrdiff_t>(begin), params.i.begin() + static_cast<std::ptrdiff_t>(begin + inner));
    }
  }
  return out;
}

Value arg_min(const Value& x, int axis) {
  need_floats(x, "arg_min");
  const std::size_t a = axis_index(axis, x.shape.size(), "arg_min");
  if (x.shape[a] == 0) fail("arg_min: empty axis");
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= x.shape[d];
  for (std::size_t d = a + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
  Dims shape = x.shape;
  shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(a));
  std::vector<std::int32_t> out(outer * inner);
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t in = 0; in < inner; ++in) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < x.shape[a]; ++k) {
        if (x.f[(o * x.shape[a] + k) * inner + in] < x.f[(o * x.shape[a] + best) * inner + in]) best = k;
      }
      out[o * inner + in] = static_cast<std::int32_t>(best);
    }
  }
  return Value::ints(shape, std::move(out));
}

Value concatenation(std::span<const Value* const> parts, int axis) {
  if (parts.empty()) fail("concatenation: no inputs");
  const Value& first = *parts[0];
  const std::size_t a = axis_index(axis, first.shape.size(), "concatenation");
  Dims shape = first.shape;
  shape[a] = 0;
  for (const Value* part : parts) {
    Dims expect = first.shape;
    expect[a] = part->shape.size() > a ? part->shape[a] : 0;
    if (part->type != first.type || part->shape != expect) {
      fail("concatenation: " + format_dims(part->shape) + " does not join " + format_dims(first.shape) + " on axis " + std::to_string(a));
    }
    shape[a] += part->shape[a];
  }
  std::size_t outer = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= first.shape[d];
  Value out;
  out.type = first.type;
  out.shape = shape;
  for (std::size_t o = 0; o < outer; ++o) {
    for (const Value* part : parts) {
      const std::size_t chunk = part->count() / std::max<std::size_t>(outer, 1);
      if (first.type == Value::Type::f32) out.f.insert(out.f.end(), part->f.begin() + static_cast<std::ptrdiff_t>(o * chunk), part->f.begin() + static_cast<std::ptrdiff_t>((o + 1) * chunk));
      else out.i.insert(out.i.end(), part->i.begin() + static_cast<std::ptrdiff_t>(o * chunk), part->i.begin() + static_cast<std::ptrdiff_t>((o + 1) * chunk));
    }
  }
  return out;
}

}  // namespace continuo::model::musiccoca

namespace continuo::model::musiccoca {

Value pad(const Value& x, const Value& paddings) {
  const std::size_t rank = x.shape.size();
  if (paddings.type != Value::Type::i32 || paddings.shape != Dims{rank, 2}) {
    fail("pad: paddings " + format_dims(paddings.shape) + " for rank " + std::to_string(rank) + "; needs int32 [rank, 2]");
  }
  Dims shape(rank), before(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    const std::int32_t head = paddings.i[2 * d], tail = paddings.i[2 * d + 1];
    if (head < 0 || tail < 0) fail("pad: axis " + std::to_string(d) + " padded by " + std::to_string(head) + ", " + std::to_string(tail));
    before[d] = static_cast<std::size_t>(head);
    shape[d] = x.shape[d] + before[d] + static_cast<std::size_t>(tail);
  }
  Value out = zeros(x.type, shape, "pad");
  const Dims to = strides_of(shape);
  std::size_t origin = 0;
  for (std::size_t d = 0; d < rank; ++d) origin += before[d] * to[d];
  for (std::size_t n = 0; n < x.count(); ++n) copy_element(x, n, out, origin + offset_of(n, x.shape, to));
  return out;
}

Value strided_slice(const Value& x, std::span<const std::int32_t> begin, std::span<const std::int32_t> end,
                    std::span<const std::int32_t> strides, SliceMasks masks) {
  const std::size_t rank = x.shape.size();
  if (begin.size() != rank || end.size() != rank || strides.size() != rank) {
    fail("strided_slice: begin, end and strides need " + std::to_string(rank) + " values each");
  }
  Dims counts(rank), shape;
  std::size_t origin = 0;
  const Dims from = strides_of(x.shape);
  std::vector<std::int64_t> step(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    const auto bit = [&](std::int32_t mask) { return ((mask >> d) & 1) != 0; };
    const SliceAxis axis = slice_axis(static_cast<std::int64_t>(x.shape[d]), begin[d], end[d], strides[d], bit(masks.begin),
                                      bit(masks.end), bit(masks.shrink_axis));
    counts[d] = static_cast<std::size_t>(axis.count);
    if (!bit(masks.shrink_axis)) shape.push_back(counts[d]);
    if (axis.count > 0) origin += static_cast<std::size_t>(axis.start) * from[d];
    step[d] = axis.step * static_cast<std::int64_t>(from[d]);
  }
  Value out = zeros(x.type, shape, "strided_slice");
  const std::size_t total = element_count(counts);
  for (std::size_t n = 0; n < total; ++n) {
    std::int64_t offset = static_cast<std::int64_t>(origin);
    std::size_t rest = n;
    for (std::size_t d = rank; d-- > 0;) {
      offset += static_cast<std::int64_t>(rest % counts[d]) * step[d];
      rest /= counts[d];
    }
    copy_element(x, static_cast<std::size_t>(offset), out, n);
  }
  return out;
}

Value conv_2d(const Value& x, const Value& filter, const Value* bias, const Conv2d& g) {
  need_floats(x, "conv_2d");
  need_floats(filter, "conv_2d filter");
  if (x.shape.size() != 4 || filter.shape.size() != 4 || filter.shape[3] != x.shape[3]) {
    fail("conv_2d: input " + format_dims(x.shape) + " and filter " + format_dims(filter.shape) + " are not NHWC and [O, KH, KW, C]");
  }
  if (g.stride_h == 0 || g.stride_w == 0 || g.dilation_h == 0 || g.dilation_w == 0) fail("conv_2d: strides and dilations must be 1 or more");
  const std::size_t batch = x.shape[0], height = x.shape[1], width = x.shape[2], channels = x.shape[3];
  const std::size_t outs = filter.shape[0], kh = filter.shape[1], kw = filter.shape[2];
  if (kh == 0 || kw == 0) fail("conv_2d: an empty filter");
  if (bias != nullptr) {
    need_floats(*bias, "conv_2d bias");
    if (bias->count() != outs) fail("conv_2d: bias " + format_dims(bias->shape) + " for " + std::to_string(outs) + " outputs");
  }
  const ConvAxis rows = conv_axis(height, kh, g.stride_h, g.dilation_h, g.same_padding);
  const ConvAxis cols = conv_axis(width, kw, g.stride_w, g.dilation_w, g.same_padding);
  Value out = zeros(Value::Type::f32, {batch, rows.out, cols.out, outs}, "conv_2d");
  std::size_t at = 0;
  for (std::size_t n = 0; n < batch; ++n) {
    for (std::size_t oy = 0; oy < rows.out; ++oy) {
      for (std::size_t ox = 0; ox < cols.out; ++ox) {
        for (std::size_t o = 0; o < outs; ++o) {
          float acc = bias != nullptr ? bias->f[o] : 0.0f;
          for (std::size_t ky = 0; ky < kh; ++ky) {
            const std::size_t y = oy * g.stride_h + ky * g.dilation_h;  // in padded coordinates
            if (y < rows.pad_before || y - rows.pad_before >= height) continue;
            for (std::size_t kx = 0; kx < kw; ++kx) {
              const std::size_t xx = ox * g.stride_w + kx * g.dilation_w;
              if (xx < cols.pad_before || xx - cols.pad_before >= width) continue;
              const float* pixel = x.f.data() + ((n * height + y - rows.pad_before) * width + xx - cols.pad_before) * channels;
              const float* weights = filter.f.data() + ((o * kh + ky) * kw + kx) * channels;
              for (std::size_t c = 0; c < channels; ++c) acc += pixel[c] * weights[c];
            }
          }
          out.f[at++] = acc;
        }
      }
    }
  }
  return out;
}

}  // namespace continuo::model::musiccoca
