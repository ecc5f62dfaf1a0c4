"""Export a model to ONNX by tracing one forward pass through the autograd graph.

The model runs once in eval mode on the example input, with gradients recorded: every op that
ran is then a Function in the graph behind the output, with its inputs and settings (a
convolution's stride and padding, a reshape's target). Each Function becomes one or a few ONNX
nodes (CONVERTERS, by the op's class name); parameters and batch norm's running statistics
become named initializers; any other constant the forward pass made becomes an initializer
too. What the forward pass did in Python around the ops (a residual's +, an Inception
block's concatenation) is in the graph as the ops it ran.

The recurrent layers are unrolled over the example's sequence length (onnx/recurrent.py).
Indexing with arrays is not exported: an op without a converter raises NotImplementedError
naming it. The batch axis stays free ("N")
unless dynamic_batch=False: a reshape that kept the batch size writes 0 ("copy that axis")
for it.
"""
from __future__ import annotations

import numpy as np

from ..autograd import enable_grad
from ..io import atomic_write
from ..tensor import Tensor, to_numpy
from . import recurrent

DEFAULT_OPSET = 17
MIN_OPSET = 13


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError("gradwise.onnx needs the onnx package: pip install 'gradwise[onnx]'") from None
    return onnx, helper, numpy_helper


class _Graph:
    """The ONNX graph being written: its nodes and initializers; names: {id of an array: its
    name} for ops that receive arrays rather than tensors (batch norm's running statistics,
    the token ids of an embedding, which are the graph's input)."""

    def __init__(self, opset: int, dynamic_batch: bool, names: dict):
        self.opset, self.dynamic_batch, self.names = opset, dynamic_batch, names
        self.nodes, self.initializers, self._count = [], [], {}
        _, self.helper, self.numpy_helper = _onnx()

    def fresh(self, stem: str) -> str:
        k = self._count.get(stem, 0)
        self._count[stem] = k + 1
        return f"{stem}_{k}"

    def constant(self, value, stem: str = "const", dtype=None) -> str:
        name = self.fresh(stem)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list, outputs: list, **attrs) -> None:
        self.nodes.append(self.helper.make_node(op, inputs, outputs, name=self.fresh(op), **attrs))


def _pads(pad) -> list:
    """gradwise's ((top, bottom), (left, right)) as ONNX's [top, left, bottom, right]."""
    (t, b), (l, r) = pad
    return [int(t), int(l), int(b), int(r)]


def _axes(axis, ndim: int) -> list:
    if axis is None:
        return list(range(ndim))
    return [int(a) % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


# ---- one converter per op: (graph, fn, input names, output name, input tensors) ------------
def _same(op):
    return lambda g, fn, xs, y, ts: g.node(op, xs, [y])


def _linear(g, fn, xs, y, ts):
    if ts[0].ndim == 2:
        g.node("Gemm", xs, [y], transB=1)
        return
    Wt = g.fresh("Wt")
    g.node("Transpose", [xs[1]], [Wt], perm=[1, 0])
    if len(xs) == 2:
        g.node("MatMul", [xs[0], Wt], [y])
    else:
        Z = g.fresh("XWt")
        g.node("MatMul", [xs[0], Wt], [Z])
        g.node("Add", [Z, xs[2]], [y])


def _conv(g, fn, xs, y, ts):
    g.node("Conv", xs, [y], kernel_shape=list(ts[1].shape[2:]), strides=list(fn.s),
           pads=_pads(fn.pad), dilations=list(fn.d))


def _pool(op, **extra):
    def convert(g, fn, xs, y, ts):
        g.node(op, xs, [y], kernel_shape=list(fn.f), strides=list(fn.s), pads=_pads(fn.pad), **extra)
    return convert


def _batch_norm(g, fn, xs, y, ts):
    if not fn.fixed:
        raise ValueError("onnx.export: a batch norm ran in training mode; export evaluates the model "
                         "(model.eval()), so a module that forces training mode cannot be exported")
    mean = g.names.get(id(fn.mean)) or g.constant(fn.mean, "running_mean")
    var = g.names.get(id(fn.var)) or g.constant(fn.var, "running_var")
    g.node("BatchNormalization", [*xs, mean, var], [y], epsilon=float(fn.eps))


def _layer_norm(g, fn, xs, y, ts):
    """LayerNormalization (opset 17) over the last len(axes) axes; a scale of ones when the
    layer has no affine parameters."""
    if g.opset < 17:
        raise ValueError("onnx.export: LayerNorm needs opset 17 or later (LayerNormalization)")
    scale = xs[1:2] or [g.constant(np.ones(ts[0].shape[fn.axes[0]:], dtype=ts[0].dtype), "ones")]
    g.node("LayerNormalization", [xs[0], *scale, *xs[2:3]], [y], axis=int(fn.axes[0]), epsilon=float(fn.eps))


def _reshape(g, fn, xs, y, ts):
    shape = list(fn.shape) if isinstance(fn.shape, (tuple, list)) else [fn.shape]
    if g.dynamic_batch and shape and ts[0].ndim and shape[0] == ts[0].shape[0]:
        shape[0] = 0  # ONNX: copy the input's axis 0, so the batch size stays free
    g.node("Reshape", [xs[0], g.constant(shape, "shape", np.int64)], [y])


def _reduce(op, new_style_from: int):
    """ReduceSum takes its axes as an input from opset 13, the others from opset 18."""
    def convert(g, fn, xs, y, ts):
        axes = _axes(fn.axis, ts[0].ndim)
        keep = int(bool(fn.keepdims))
        if g.opset >= new_style_from:
            g.node(op, [xs[0], g.constant(axes, "axes", np.int64)], [y], keepdims=keep)
        else:
            g.node(op, xs, [y], axes=axes, keepdims=keep)
    return convert


def _clip(g, fn, xs, y, ts):
    dtype = ts[0].dtype
    lo = "" if fn.lo is None else g.constant(fn.lo, "min", dtype)
    hi = "" if fn.hi is None else g.constant(fn.hi, "max", dtype)
    g.node("Clip", [xs[0], lo, hi], [y])


def _pad(g, fn, xs, y, ts):
    before = [int(b) for b, _ in fn.pad_width]
    after = [int(a) for _, a in fn.pad_width]
    g.node("Pad", [xs[0], g.constant(before + after, "pads", np.int64),
                   g.constant(fn.value, "pad_value", ts[0].dtype)], [y], mode="constant")


def _stack(g, fn, xs, y, ts):
    axis = int(fn.axis) % (ts[0].ndim + 1)
    parts = []
    for x in xs:
        parts.append(g.fresh("unsqueezed"))
        g.node("Unsqueeze", [x, g.constant([axis], "axes", np.int64)], [parts[-1]])
    g.node("Concat", parts, [y], axis=axis)


INT64_MIN = -(2 ** 63)


def _basic_index(index, ndim: int):
    """x[index] for ints, slices, ... and None as ((axis, start, stop, step) slices, the
    int axes to squeeze, the positions of None in the result); None when it is not basic."""
    index = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, (list, np.ndarray)) or not (i is None or i is Ellipsis or isinstance(
            i, (int, np.integer, slice))) for i in index):
        return None
    used = sum(i is not None and i is not Ellipsis for i in index)
    full = []
    for i in index:
        full += [slice(None)] * (ndim - used) if i is Ellipsis else [i]
    full += [slice(None)] * (ndim + full.count(None) - len(full))
    return full


def _getitem(g, fn, xs, y, ts):
    """Basic indexing (ints, slices with steps, ..., None) as Slice, Squeeze and Unsqueeze;
    integer or boolean array indices are not exported."""
    shape = ts[0].shape
    full = _basic_index(fn.index, len(shape))
    if full is None:
        raise NotImplementedError(f"onnx.export: indexing with arrays ({fn.index!r}) has no ONNX "
                                  f"conversion here; index with ints and slices")
    starts, ends, axes, steps, squeeze, new = [], [], [], [], [], []
    axis = out_pos = 0
    for i in full:
        if i is None:
            new.append(out_pos)
            out_pos += 1
            continue
        n = shape[axis]
        if isinstance(i, slice):
            a, b, c = i.indices(n)
            if (a, b, c) != (0, n, 1):
                starts.append(a), ends.append(INT64_MIN if c < 0 and b < 0 else b)
                axes.append(axis), steps.append(c)
            out_pos += 1
        else:
            k = int(i) % n
            starts.append(k), ends.append(k + 1), axes.append(axis), steps.append(1)
            squeeze.append(axis)
        axis += 1
    x = xs[0]
    for op, values in (("Slice", starts), ("Squeeze", squeeze), ("Unsqueeze", new)):
        if not values:
            continue
        out = g.fresh(op.lower())
        if op == "Slice":
            g.node("Slice", [x, *(g.constant(v, k, np.int64) for v, k in
                                  ((starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps")))], [out])
        else:
            g.node(op, [x, g.constant(values, "axes", np.int64)], [out])
        x = out
    g.node("Identity", [x], [y])


def _embedding(g, fn, xs, y, ts):
    """E[indices] as Gather: the indices are the graph input they came from, else a constant."""
    ids = g.names.get(id(fn.indices)) or g.constant(np.asarray(fn.indices, dtype=np.int64), "indices")
    g.node("Gather", [xs[0], ids], [y], axis=0)


def _cast(g, fn, xs, y, ts):
    _, helper, _ = _onnx()
    g.node("Cast", xs, [y], to=helper.np_dtype_to_tensor_dtype(np.dtype(fn.dtype)))


def _where(g, fn, xs, y, ts):
    g.node("Where", [g.constant(np.asarray(fn.cond, dtype=bool), "condition"), *xs], [y])


def _step(g, fn, xs, y, ts):
    above = g.fresh("above")
    g.node("Greater", [xs[0], g.constant(0, "zero", ts[0].dtype)], [above])
    _, helper, _ = _onnx()
    g.node("Cast", [above], [y], to=helper.np_dtype_to_tensor_dtype(ts[0].dtype))


CONVERTERS = {
    "Linear": _linear, "Conv2d": _conv,
    "MaxPool2d": _pool("MaxPool"), "AvgPool2d": _pool("AveragePool", count_include_pad=1),
    "BatchNorm": _batch_norm, "LayerNorm": _layer_norm,
    "ReLU": _same("Relu"), "Sigmoid": _same("Sigmoid"), "Tanh": _same("Tanh"),
    "Softplus": _same("Softplus"), "Step": _step,
    "LeakyReLU": lambda g, fn, xs, y, ts: g.node("LeakyRelu", xs, [y], alpha=float(fn.slope)),
    "Softmax": lambda g, fn, xs, y, ts: g.node("Softmax", xs, [y], axis=int(fn.axis)),
    "LogSoftmax": lambda g, fn, xs, y, ts: g.node("LogSoftmax", xs, [y], axis=int(fn.axis)),
    "Add": _same("Add"), "Sub": _same("Sub"), "Mul": _same("Mul"), "Div": _same("Div"),
    "Neg": _same("Neg"), "Pow": _same("Pow"), "MatMul": _same("MatMul"),
    "Exp": _same("Exp"), "Log": _same("Log"), "Sqrt": _same("Sqrt"), "Abs": _same("Abs"),
    "Sin": _same("Sin"), "Cos": _same("Cos"), "Maximum": _same("Max"), "Minimum": _same("Min"),
    "Clip": _clip, "Cast": _cast, "Where": _where,
    "Reshape": _reshape,
    "Permute": lambda g, fn, xs, y, ts: g.node("Transpose", xs, [y], perm=[int(a) for a in fn.axes]),
    "BroadcastTo": lambda g, fn, xs, y, ts: g.node(
        "Expand", [xs[0], g.constant(list(fn.shape), "shape", np.int64)], [y]),
    "Concatenate": lambda g, fn, xs, y, ts: g.node("Concat", xs, [y], axis=int(fn.axis) % ts[0].ndim),
    "Stack": _stack, "Pad": _pad, "GetItem": _getitem, "Embedding": _embedding,
    "RNN": recurrent.rnn, "GRU": recurrent.gru, "LSTM": recurrent.lstm,
    "Sum": _reduce("ReduceSum", 13), "Mean": _reduce("ReduceMean", 18),
    "Max": _reduce("ReduceMax", 18), "Min": _reduce("ReduceMin", 18),
}


def _topological(outputs: list) -> list:
    """The Functions behind the outputs, each after the ones that made its inputs."""
    order, seen = [], set()
    for out in outputs:
        stack = [(out.creator, False)] if out.creator is not None else []
        while stack:
            fn, done = stack.pop()
            if done:
                order.append(fn)
                continue
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            stack.append((fn, True))
            stack += [(x.creator, False) for x in fn.inputs or () if x.creator is not None
                      and id(x.creator) not in seen]
    return order


def _trace(model, example):
    """Run the model once in eval mode with gradients recorded; (input tensors, outputs)."""
    examples = example if isinstance(example, (tuple, list)) else (example,)
    arrays = [np.array(to_numpy(e)) for e in examples]
    xs = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]   # token ids stay integers
    with model.evaluating(), enable_grad():
        out = model(*xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"onnx.export: the model returned a {type(o).__name__}, not Tensors")
    return xs, outs


def _value_info(helper, name: str, arr_or_tensor, batch: bool):
    shape = list(arr_or_tensor.shape)
    if batch and shape:
        shape[0] = "N"
    return helper.make_tensor_value_info(
        name, helper.np_dtype_to_tensor_dtype(np.dtype(arr_or_tensor.dtype)), shape)


def _names(given, stem: str, n: int) -> list:
    return list(given) if given else ([stem] if n == 1 else [f"{stem}_{i}" for i in range(n)])


def _convert(g: _Graph, outs: list, output_names: list, leaves: dict) -> None:
    """One or a few nodes for every op behind the outputs, in order. leaves: {id: name} of
    the inputs and parameters; any other leaf is a constant and becomes an initializer."""
    out_of = {id(o.creator): n for o, n in zip(outs, output_names) if o.creator is not None}
    if len(out_of) != len(outs):
        raise ValueError("onnx.export: each output must be computed by an op from the input "
                         "(an output that is an input or a parameter, or two outputs that are "
                         "the same tensor, cannot be named)")
    for fn in _topological(outs):
        convert = CONVERTERS.get(type(fn).__name__)
        if convert is None:
            raise NotImplementedError(f"onnx.export: no ONNX conversion for the op {type(fn).__name__} "
                                      f"(supported: {', '.join(sorted(CONVERTERS))})")
        in_names = []
        for x in fn.inputs:
            if x.creator is not None:
                in_names.append(out_of[id(x.creator)])
                continue
            if id(x) not in leaves:
                leaves[id(x)] = g.constant(x.data, "const")
            in_names.append(leaves[id(x)])
        out_of.setdefault(id(fn), g.fresh(type(fn).__name__.lower()))
        convert(g, fn, in_names, out_of[id(fn)], list(fn.inputs))


def to_model_proto(model, example, opset: int = DEFAULT_OPSET, dynamic_batch: bool = True,
                   input_names=None, output_names=None):
    """The ONNX ModelProto of model traced on example (an array, a Tensor, or a tuple of them
    for several inputs), checked with onnx.checker (full_check)."""
    onnx, helper, numpy_helper = _onnx()
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"onnx.export: opset must be in {MIN_OPSET}..{onnx.defs.onnx_opset_version()} "
                         f"(this onnx package's newest), got {opset}")
    xs, outs = _trace(model, example)
    input_names, output_names = _names(input_names, "input", len(xs)), _names(output_names, "output", len(outs))
    buffers = dict(model.named_buffers())
    arrays = {id(b.data): n for n, b in buffers.items()} | {id(x.data): n for x, n in zip(xs, input_names)}
    g = _Graph(opset, dynamic_batch, arrays)
    leaves = {id(x): n for x, n in zip(xs, input_names)}
    for name, value in [*model.named_parameters(), *buffers.items()]:
        leaves[id(value)] = name
        g.initializers.append(numpy_helper.from_array(np.asarray(value.data), name))
    _convert(g, outs, output_names, leaves)
    graph = helper.make_graph(
        g.nodes, type(model).__name__,
        [_value_info(helper, n, x, dynamic_batch) for x, n in zip(xs, input_names)],
        [_value_info(helper, n, o, dynamic_batch) for o, n in zip(outs, output_names)],
        initializer=_used(g))
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="gradwise")
    proto.ir_version = helper.find_min_ir_version_for(opsets)  # what readers of that opset know
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _used(g):
    """The initializers some node reads, each once."""
    read = {name for node in g.nodes for name in node.input}
    seen, keep = set(), []
    for init in g.initializers:
        if init.name in read and init.name not in seen:
            seen.add(init.name)
            keep.append(init)
    return keep


def export(model, example_input, path, opset: int = DEFAULT_OPSET, dynamic_batch: bool = True,
           input_names=None, output_names=None):
    """Write model as an ONNX file at path (atomically) and return the ModelProto.

    example_input: an array or Tensor of the shape the model takes (a tuple for several
    inputs); its batch axis is left free unless dynamic_batch=False. The model is traced in
    eval mode (batch norm's running statistics, no dropout) and left in its own mode."""
    proto = to_model_proto(model, example_input, opset=opset, dynamic_batch=dynamic_batch,
                           input_names=input_names, output_names=output_names)
    atomic_write(path, lambda f: f.write(proto.SerializeToString()), who="onnx.export")
    return proto
