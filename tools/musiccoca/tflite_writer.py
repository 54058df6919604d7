"""Writes small TFLite flatbuffers by hand: the stand-in MusicCoCa graphs the tests convert.

No TensorFlow: the `tflite` package's generated builders and `flatbuffers` are enough, and
every op is spelled out, so the stand-ins hold exactly the op kinds continuo runs.
"""
import flatbuffers
import numpy as np
import tflite
from tflite import BuiltinOperator as Op, BuiltinOptions as Opt, TensorType as TT

_DTYPES = {np.dtype(np.float32): TT.FLOAT32, np.dtype(np.int32): TT.INT32, np.dtype(np.int64): TT.INT64}


class Graph:
    """One subgraph: tensors (constant or not) and ops in execution order."""

    def __init__(self):
        self.tensors = []  # (name, shape, tflite type, constant bytes or None)
        self.ops = []  # (builtin code, inputs, outputs, options builder or None, custom code)
        self.inputs, self.outputs = [], []

    def input(self, name, shape, dtype=np.float32):
        index = self._tensor(name, shape, _DTYPES[np.dtype(dtype)], None)
        self.inputs.append(index)
        return index

    def const(self, name, array):
        array = np.ascontiguousarray(array)
        return self._tensor(name, array.shape, _DTYPES[array.dtype], array.tobytes())

    def op(self, code, inputs, shape, dtype=np.float32, options=None, name=None, custom=None):
        out = self._tensor(name or f"t{len(self.tensors)}", shape, _DTYPES[np.dtype(dtype)], None)
        self.ops.append((code, list(inputs), [out], options, custom))
        return out

    def _tensor(self, name, shape, ttype, data):
        self.tensors.append((name, tuple(int(d) for d in shape), ttype, data))
        return len(self.tensors) - 1


# Options: functions of the builder that return (options type, offset).
def fully_connected(b):
    tflite.FullyConnectedOptionsStart(b)
    return Opt.FullyConnectedOptions, tflite.FullyConnectedOptionsEnd(b)


def add(b):
    tflite.AddOptionsStart(b)
    return Opt.AddOptions, tflite.AddOptionsEnd(b)


def sub(b):
    tflite.SubOptionsStart(b)
    return Opt.SubOptions, tflite.SubOptionsEnd(b)


def mul(b):
    tflite.MulOptionsStart(b)
    return Opt.MulOptions, tflite.MulOptionsEnd(b)


def div(b):
    tflite.DivOptionsStart(b)
    return Opt.DivOptions, tflite.DivOptionsEnd(b)


def gelu(approximate):
    def build(b):
        tflite.GeluOptionsStart(b)
        tflite.GeluOptionsAddApproximate(b, approximate)
        return Opt.GeluOptions, tflite.GeluOptionsEnd(b)
    return build


def softmax(beta):
    def build(b):
        tflite.SoftmaxOptionsStart(b)
        tflite.SoftmaxOptionsAddBeta(b, beta)
        return Opt.SoftmaxOptions, tflite.SoftmaxOptionsEnd(b)
    return build


def reducer(keep_dims):
    def build(b):
        tflite.ReducerOptionsStart(b)
        tflite.ReducerOptionsAddKeepDims(b, keep_dims)
        return Opt.ReducerOptions, tflite.ReducerOptionsEnd(b)
    return build


def batch_matmul(adj_x, adj_y):
    def build(b):
        tflite.BatchMatMulOptionsStart(b)
        tflite.BatchMatMulOptionsAddAdjX(b, adj_x)
        tflite.BatchMatMulOptionsAddAdjY(b, adj_y)
        return Opt.BatchMatMulOptions, tflite.BatchMatMulOptionsEnd(b)
    return build


def gather(axis):
    def build(b):
        tflite.GatherOptionsStart(b)
        tflite.GatherOptionsAddAxis(b, axis)
        return Opt.GatherOptions, tflite.GatherOptionsEnd(b)
    return build


def arg_min(b):
    tflite.ArgMinOptionsStart(b)
    tflite.ArgMinOptionsAddOutputType(b, TT.INT32)
    return Opt.ArgMinOptions, tflite.ArgMinOptionsEnd(b)


def concatenation(axis):
    def build(b):
        tflite.ConcatenationOptionsStart(b)
        tflite.ConcatenationOptionsAddAxis(b, axis)
        return Opt.ConcatenationOptions, tflite.ConcatenationOptionsEnd(b)
    return build


def maximum(b):
    tflite.MaximumMinimumOptionsStart(b)
    return Opt.MaximumMinimumOptions, tflite.MaximumMinimumOptionsEnd(b)


def pad(b):
    tflite.PadOptionsStart(b)
    return Opt.PadOptions, tflite.PadOptionsEnd(b)


def strided_slice(begin_mask=0, end_mask=0, shrink_axis_mask=0):
    def build(b):
        tflite.StridedSliceOptionsStart(b)
        tflite.StridedSliceOptionsAddBeginMask(b, begin_mask)
        tflite.StridedSliceOptionsAddEndMask(b, end_mask)
        tflite.StridedSliceOptionsAddShrinkAxisMask(b, shrink_axis_mask)
        return Opt.StridedSliceOptions, tflite.StridedSliceOptionsEnd(b)
    return build


def conv_2d(stride_h, stride_w, same):
    def build(b):
        tflite.Conv2DOptionsStart(b)
        tflite.Conv2DOptionsAddPadding(b, tflite.Padding.SAME if same else tflite.Padding.VALID)
        tflite.Conv2DOptionsAddStrideH(b, stride_h)
        tflite.Conv2DOptionsAddStrideW(b, stride_w)
        return Opt.Conv2DOptions, tflite.Conv2DOptionsEnd(b)
    return build


def _ints(b, start, values):
    start(b, len(values))
    for v in reversed(values):
        b.PrependInt32(v)
    return b.EndVector()


def _bytes_vector(b, data):
    b.StartVector(1, len(data), 16)
    b.head = b.head - len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return b.EndVector()


def serialize(graph):
    """The TFLite file's bytes (schema version 3, one subgraph)."""
    b = flatbuffers.Builder(1024)
    # Buffer 0 is the empty buffer every non-constant tensor points at.
    buffers = [None] + [data for (_, _, _, data) in graph.tensors if data is not None]
    buffer_offsets = []
    for data in buffers:
        vec = _bytes_vector(b, data) if data else None
        tflite.BufferStart(b)
        if vec is not None:
            tflite.BufferAddData(b, vec)
        buffer_offsets.append(tflite.BufferEnd(b))
    tensor_offsets, next_buffer = [], 1
    for name, shape, ttype, data in graph.tensors:
        name_off = b.CreateString(name)
        shape_off = _ints(b, tflite.TensorStartShapeVector, list(shape))
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape_off)
        tflite.TensorAddType(b, ttype)
        tflite.TensorAddName(b, name_off)
        if data is not None:
            tflite.TensorAddBuffer(b, next_buffer)
            next_buffer += 1
        tensor_offsets.append(tflite.TensorEnd(b))
    codes = []  # (builtin, custom name)
    op_offsets = []
    for code, inputs, outputs, options, custom in graph.ops:
        if (code, custom) not in codes:
            codes.append((code, custom))
        opts = options(b) if options else None
        in_off = _ints(b, tflite.OperatorStartInputsVector, inputs)
        out_off = _ints(b, tflite.OperatorStartOutputsVector, outputs)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, codes.index((code, custom)))
        tflite.OperatorAddInputs(b, in_off)
        tflite.OperatorAddOutputs(b, out_off)
        if opts:
            tflite.OperatorAddBuiltinOptionsType(b, opts[0])
            tflite.OperatorAddBuiltinOptions(b, opts[1])
        op_offsets.append(tflite.OperatorEnd(b))
    code_offsets = []
    for code, custom in codes:
        custom_off = b.CreateString(custom) if custom else None
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        if custom_off is not None:
            tflite.OperatorCodeAddCustomCode(b, custom_off)
        code_offsets.append(tflite.OperatorCodeEnd(b))

    def table_vector(start, offsets):
        start(b, len(offsets))
        for off in reversed(offsets):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    tensors_vec = table_vector(tflite.SubGraphStartTensorsVector, tensor_offsets)
    ops_vec = table_vector(tflite.SubGraphStartOperatorsVector, op_offsets)
    inputs_vec = _ints(b, tflite.SubGraphStartInputsVector, graph.inputs)
    outputs_vec = _ints(b, tflite.SubGraphStartOutputsVector, graph.outputs)
    sg_name = b.CreateString("main")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_vec)
    tflite.SubGraphAddOperators(b, ops_vec)
    tflite.SubGraphAddInputs(b, inputs_vec)
    tflite.SubGraphAddOutputs(b, outputs_vec)
    tflite.SubGraphAddName(b, sg_name)
    subgraph = tflite.SubGraphEnd(b)
    subgraphs_vec = table_vector(tflite.ModelStartSubgraphsVector, [subgraph])
    codes_vec = table_vector(tflite.ModelStartOperatorCodesVector, code_offsets)
    buffers_vec = table_vector(tflite.ModelStartBuffersVector, buffer_offsets)
    description = b.CreateString("continuo stand-in")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_vec)
    tflite.ModelAddSubgraphs(b, subgraphs_vec)
    tflite.ModelAddDescription(b, description)
    tflite.ModelAddBuffers(b, buffers_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


OPS = Op
