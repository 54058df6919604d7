"""Reads a TFLite file into continuo's graph form (docs/musiccoca.md) and writes it:
<stem>.graph.toml (tensors, ops in order, options, int constants inline) and
<stem>.safetensors (the f32 constants, as "t<index>").

Refuses, naming each, every op and tensor type continuo does not run: the whole list at
once, so a user sees all of it from one run.
"""
import sys
from pathlib import Path

import numpy as np
import tflite
from tflite import ActivationFunctionType, BuiltinOperator, TensorType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from convert_mrt2 import write_safetensors  # noqa: E402

FORMAT = "continuo-graph-1"
OP_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in vars(TensorType).items() if not k.startswith("_")}
ELEMENTWISE = {"ADD": tflite.AddOptions, "SUB": tflite.SubOptions, "MUL": tflite.MulOptions, "DIV": tflite.DivOptions}
SUPPORTED = {"ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MEAN", "SUM", "RSQRT", "SQRT", "TANH", "GELU",
             "FULLY_CONNECTED", "BATCH_MATMUL", "SOFTMAX", "RESHAPE", "TRANSPOSE", "GATHER", "ARG_MIN",
             "CONCATENATION", "MAXIMUM", "LOG", "PAD", "STRIDED_SLICE", "CONV_2D"}
NUMPY = {TensorType.FLOAT32: np.float32, TensorType.INT32: np.int32, TensorType.INT64: np.int64}
MAX_INLINE = 4096  # int constants (shapes, axes, indices) go inline in the TOML


class Unsupported(Exception):
    """The file holds what continuo does not run; args[0] lists every problem."""


def _options(op, cls):
    table = op.BuiltinOptions()
    if table is None:
        return None
    options = cls()
    options.Init(table.Bytes, table.Pos)
    return options


def _buffer(model, tensor):
    data = model.Buffers(tensor.Buffer()).DataAsNumpy()
    return None if isinstance(data, int) or data.size == 0 else data


def _op_record(model, graph, op, name, problems, where):
    """The op's options as TOML keys, or problems appended."""
    record = {}
    if name in ELEMENTWISE or name in ("FULLY_CONNECTED", "CONCATENATION", "CONV_2D"):
        cls = ELEMENTWISE.get(name) or getattr(tflite, {"FULLY_CONNECTED": "FullyConnectedOptions",
                                                        "CONCATENATION": "ConcatenationOptions",
                                                        "CONV_2D": "Conv2DOptions"}[name])
        options = _options(op, cls)
        if options is not None and options.FusedActivationFunction() != ActivationFunctionType.NONE:
            problems.append(f"{where}: {name} with a fused activation (type {options.FusedActivationFunction()})")
        if name == "FULLY_CONNECTED" and options is not None and (options.KeepNumDims() or options.WeightsFormat()):
            problems.append(f"{where}: FULLY_CONNECTED with keep_num_dims or a shuffled weights format")
        if name == "CONCATENATION":
            record["axis"] = options.Axis() if options else 0
    if name == "FULLY_CONNECTED" and _buffer(model, graph.Tensors(op.Inputs(1))) is None:
        problems.append(f"{where}: FULLY_CONNECTED whose weights are not a constant")
    if name in ("MEAN", "SUM"):
        options = _options(op, tflite.ReducerOptions)
        record["keep_dims"] = bool(options.KeepDims()) if options else False
    if name == "GELU":
        options = _options(op, tflite.GeluOptions)
        record["approximate"] = bool(options and options.Approximate())
    if name == "SOFTMAX":
        options = _options(op, tflite.SoftmaxOptions)
        record["beta"] = float(options.Beta()) if options else 1.0
    if name == "BATCH_MATMUL":
        options = _options(op, tflite.BatchMatMulOptions)
        record["adj_x"] = bool(options and options.AdjX())
        record["adj_y"] = bool(options and options.AdjY())
    if name == "CONV_2D":
        options = _options(op, tflite.Conv2DOptions)
        if options is None:
            problems.append(f"{where}: CONV_2D without its options (padding, strides)")
        else:
            record.update(padding="SAME" if options.Padding() == tflite.Padding.SAME else "VALID",
                          stride_h=options.StrideH(), stride_w=options.StrideW(),
                          dilation_h=options.DilationHFactor(), dilation_w=options.DilationWFactor())
    if name == "STRIDED_SLICE":
        options = _options(op, tflite.StridedSliceOptions)
        if options is not None:
            if options.EllipsisMask() or options.NewAxisMask() or options.Offset():
                problems.append(f"{where}: STRIDED_SLICE with an ellipsis mask, a new axis mask or offset")
            record.update(begin_mask=options.BeginMask(), end_mask=options.EndMask(),
                          shrink_axis_mask=options.ShrinkAxisMask())
    if name == "GATHER":
        options = _options(op, tflite.GatherOptions)
        record["axis"] = options.Axis() if options else 0
        if options is not None and options.BatchDims() != 0:
            problems.append(f"{where}: GATHER with batch_dims {options.BatchDims()}")
    return record


def read_graph(path):
    """{'tensors': [...], 'ops': [...], 'inputs': [...], 'outputs': [...], 'constants': {name: array}}.
    Raises Unsupported listing every op kind and tensor type continuo does not run."""
    buf = Path(path).read_bytes()
    model = tflite.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() != 1:
        raise Unsupported(f"{path}: {model.SubgraphsLength()} subgraphs (continuo runs files with one)")
    graph = model.Subgraphs(0)
    problems, tensors, constants = [], [], {}
    for t in range(graph.TensorsLength()):
        tensor = graph.Tensors(t)
        name = tensor.Name().decode(errors="replace")
        if tensor.Type() not in NUMPY:
            problems.append(f"{path}: tensor {t} '{name}': type {TYPE_NAMES.get(tensor.Type(), tensor.Type())} "
                            "(continuo runs FLOAT32, INT32, INT64)")
            tensors.append(None)
            continue
        shape = [int(d) for d in tensor.ShapeAsNumpy()] if tensor.ShapeLength() else []
        record = {"name": name, "type": "f32" if tensor.Type() == TensorType.FLOAT32 else "i32", "shape": shape}
        data = _buffer(model, tensor)
        if data is not None:
            values = np.frombuffer(data.tobytes(), NUMPY[tensor.Type()]).reshape(shape)
            if record["type"] == "f32":
                record["constant"] = f"t{t}"
                constants[f"t{t}"] = values.astype(np.float32)
            elif values.size > MAX_INLINE or np.abs(values).max(initial=0) >= 2 ** 31:
                problems.append(f"{path}: tensor {t} '{name}': an integer constant of {values.size} values "
                                "(continuo inlines at most 4096, each within int32)")
            else:
                record["values"] = [int(v) for v in values.reshape(-1)]
        tensors.append(record)
    ops, unknown = [], {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = OP_NAMES.get(builtin, f"builtin {builtin}")
        if name == "CUSTOM":
            name = f"CUSTOM '{code.CustomCode().decode(errors='replace')}'"
        if name not in SUPPORTED:
            unknown.setdefault(name, []).append(i)
            continue
        where = f"{path}: op {i}"
        record = {"kind": name, "inputs": [int(x) for x in op.InputsAsNumpy()],
                  "outputs": [int(x) for x in op.OutputsAsNumpy()]}
        record.update(_op_record(model, graph, op, name, problems, where))
        ops.append(record)
    for name, where in unknown.items():
        shown = ", ".join(map(str, where[:5])) + (", ..." if len(where) > 5 else "")
        problems.append(f"{path}: op {name} ({len(where)}x, at op {shown}) is not one continuo runs")
    if problems:
        raise Unsupported("\n".join(problems))
    return {"tensors": tensors, "ops": ops, "constants": constants,
            "inputs": [int(x) for x in graph.InputsAsNumpy()], "outputs": [int(x) for x in graph.OutputsAsNumpy()]}


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def write_graph(graph, out_dir, stem, source):
    """Writes <stem>.graph.toml and <stem>.safetensors; returns the TOML's path."""
    out_dir = Path(out_dir)
    weights = f"{stem}.safetensors"
    write_safetensors(out_dir / weights, [(k, v.shape, "F32", lambda v=v: v) for k, v in graph["constants"].items()])
    lines = [f"# Converted by tools/musiccoca/convert.py from {Path(source).name}: see docs/musiccoca.md.",
             f"format = {_toml(FORMAT)}", f"weights = {_toml(weights)}",
             f"inputs = {_toml(graph['inputs'])}", f"outputs = {_toml(graph['outputs'])}", ""]
    for tensor in graph["tensors"]:
        lines.append("[[tensors]]")
        lines += [f"{k} = {_toml(v)}" for k, v in tensor.items()]
    for op in graph["ops"]:
        lines.append("[[ops]]")
        lines += [f"{k} = {_toml(v)}" for k, v in op.items()]
    path = out_dir / f"{stem}.graph.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
