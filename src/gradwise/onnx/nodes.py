"""The ONNX ops that gradwise runs, each as gradwise ops (so each has its gradient): IMPORTERS
maps an op type to fn(inputs, attributes, opset) -> outputs, inputs as Tensors (None where an
optional input is left out). Settings that ONNX passes as tensors (shapes, axes, pads) are read
as numbers; a setting gradwise cannot honour raises Unsupported, naming it.
"""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..ops import activation as _act
from ..ops import conv as _conv
from ..ops import normalization as _norm
from ..tensor import Tensor, to_numpy
from .common import Unsupported, _axes_of, _const
from .export import _onnx
from .shapes import SHAPES


# ---- elementwise and matrix ops --------------------------------------------------------
def _unary(fn):
    return lambda x, a, opset: [fn(x[0])]


def _binary(fn):
    return lambda x, a, opset: [fn(x[0], x[1])]


def _fold(fn):
    """Max, Min, Sum over any number of inputs."""
    def run(x, a, opset):
        out = x[0]
        for y in x[1:]:
            out = fn(out, y)
        return [out]
    return run


def _div(x, a, opset):
    """Integers divide as ONNX (and C) do, truncating toward zero; no gradient flows there."""
    A, B = x
    if A.dtype.kind in "iu" and B.dtype.kind in "iu":
        q = np.abs(A.data) // np.abs(B.data) * (np.sign(A.data) * np.sign(B.data))
        return [_const(q.astype(A.dtype))]
    return [ops.div(A, B)]


def _pow(x, a, opset):
    """ONNX's Pow keeps the base's type."""
    y = ops.pow(x[0], x[1])
    return [y if y.dtype == x[0].dtype else ops.astype(y, x[0].dtype)]


def _gemm(x, a, opset):
    A, B = x[0], x[1]
    if a.get("transA", 0):
        A = A.transpose()
    if a.get("transB", 0):
        B = B.transpose()
    Y = A @ B
    if a.get("alpha", 1.0) != 1.0:
        Y = Y * float(a["alpha"])
    if len(x) > 2 and x[2] is not None:
        C = x[2] if a.get("beta", 1.0) == 1.0 else x[2] * float(a["beta"])
        Y = Y + C
    return [Y]


def _softmax(log: bool):
    def run(x, a, opset):
        z = x[0]
        fn = ops.log_softmax if log else ops.softmax
        if opset >= 13:
            return [fn(z, axis=int(a.get("axis", -1)))]
        axis = int(a.get("axis", 1)) % max(z.ndim, 1)   # before 13: over the flattened tail
        flat = z.reshape(math.prod(z.shape[:axis]), math.prod(z.shape[axis:]))
        return [fn(flat, axis=1).reshape(*z.shape)]
    return run


def _clip(x, a, opset):
    lo, hi = (a.get("min"), a.get("max")) if opset < 11 else (
        to_numpy(x[1]).item() if len(x) > 1 and x[1] is not None else None,
        to_numpy(x[2]).item() if len(x) > 2 and x[2] is not None else None)
    if lo is None and hi is None:
        return [x[0]]
    return [ops.clip(x[0], lo, hi)]


def _cast(x, a, opset):
    _, helper, _ = _onnx()
    dtype = helper.tensor_dtype_to_np_dtype(a["to"])
    return [ops.astype(x[0], dtype)]


# ---- reductions, selection and constants ------------------------------------------------
def _reduce(fn, since: int, empty=None):
    def run(x, a, opset):
        axes = _axes_of(x, a, opset, since)
        keep = bool(a.get("keepdims", 1))
        if not axes:
            if a.get("noop_with_empty_axes", 0):
                return [x[0]]
            axes = None
        axes = None if axes is None else tuple(int(v) for v in axes)
        if x[0].size == 0 and empty is not None:   # ONNX: the max of nothing is -inf
            shape = np.sum(np.zeros(x[0].shape), axis=axes, keepdims=keep).shape
            value = empty > 0 if x[0].dtype == bool else empty
            return [_const(np.full(shape, value, dtype=x[0].dtype))]
        return [fn(x[0], axis=axes, keepdims=keep)]
    return run


def _where(x, a, opset):
    return [ops.where(to_numpy(x[0]).astype(bool), x[1], x[2])]


def _constant(x, a, opset):
    _, _, numpy_helper = _onnx()
    if "value" in a:
        return [_const(numpy_helper.to_array(a["value"]))]
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in a:
            return [_const(np.asarray(a[key], dtype=dtype))]
    raise Unsupported(f"Constant: attribute {sorted(a)}")


def _constant_of_shape(x, a, opset):
    _, _, numpy_helper = _onnx()
    value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
    shape = tuple(int(v) for v in to_numpy(x[0]))
    return [_const(np.full(shape, value.reshape(-1)[0], dtype=value.dtype))]


def _dropout(x, a, opset):
    if len(x) > 2 and x[2] is not None and bool(to_numpy(x[2])):
        raise Unsupported("Dropout: training_mode=True (the loaded graph runs inference)")
    return [x[0], _const(np.ones(x[0].shape, dtype=bool))]


# ---- convolution, pooling, normalization (2-D images) ----------------------------------------
def _spatial(name: str, X: Tensor) -> None:
    if X.ndim != 4:
        raise Unsupported(f"{name}: gradwise convolves and pools 2-D images (N, C, H, W); this "
                          f"node's input has shape {X.shape}")


def _window_pads(a, X, kernel, strides, dilations):
    """((top, bottom), (left, right)) from pads or auto_pad, plus ceil_mode's extra end pads."""
    auto = a.get("auto_pad", "NOTSET")
    hw = X.shape[2:]
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for n, f, s, d in zip(hw, kernel, strides, dilations):
            total = max((math.ceil(n / s) - 1) * s + d * (f - 1) + 1 - n, 0)
            small, big = total // 2, total - total // 2
            pads.append((small, big) if auto == "SAME_UPPER" else (big, small))
    elif auto == "VALID":
        pads = [(0, 0), (0, 0)]
    else:
        p = a.get("pads", [0, 0, 0, 0])
        pads = [(int(p[0]), int(p[2])), (int(p[1]), int(p[3]))]
    extra = [0, 0]
    if a.get("ceil_mode", 0):
        for i, (n, f, s, d) in enumerate(zip(hw, kernel, strides, dilations)):
            span = n + sum(pads[i]) - d * (f - 1) - 1
            out = math.ceil(span / s) + 1
            if (out - 1) * s >= n + pads[i][0]:   # the last window must start inside
                out -= 1
            extra[i] = max((out - 1) * s - span, 0)
    return tuple(pads), tuple(extra)


def _conv2d(x, a, opset):
    X, W = x[0], x[1]
    b = x[2] if len(x) > 2 else None
    _spatial("Conv", X)
    kernel = tuple(a.get("kernel_shape", W.shape[2:]))
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    pads, _ = _window_pads(a, X, kernel, strides, dilations)
    groups = int(a.get("group", 1))
    conv = _conv.Conv2d(strides, pads, dilations)
    if groups == 1:
        return [conv(X, W, b) if b is not None else conv(X, W)]
    c, f = X.shape[1] // groups, W.shape[0] // groups
    outs = []
    for g in range(groups):           # a grouped convolution: one convolution per group
        Xg, Wg = X[:, g * c:(g + 1) * c], W[g * f:(g + 1) * f]
        args = (Xg, Wg) if b is None else (Xg, Wg, b[g * f:(g + 1) * f])
        outs.append(_conv.Conv2d(strides, pads, dilations)(*args))
    return [ops.concatenate(outs, axis=1)]


def _pool_settings(name, x, a):
    X = x[0]
    _spatial(name, X)
    kernel = tuple(a["kernel_shape"])
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    if dilations != (1, 1):
        raise Unsupported(f"{name}: dilations {dilations} (gradwise pools contiguous windows)")
    pads, extra = _window_pads(a, X, kernel, strides, dilations)
    return X, kernel, strides, pads, extra


def _max_pool(x, a, opset):
    X, kernel, strides, pads, extra = _pool_settings("MaxPool", x, a)
    pads = tuple((p, q + e) for (p, q), e in zip(pads, extra))   # padding never wins a max
    return [_conv.MaxPool2d(kernel, strides, pads)(X)]


def _average_pool(x, a, opset):
    """gradwise's average counts every window pixel, padding too; ONNX's counts padding only
    with count_include_pad=1 and never counts ceil_mode's extra end: divide by the right count."""
    X, kernel, strides, pads, extra = _pool_settings("AveragePool", x, a)
    full = tuple((p, q + e) for (p, q), e in zip(pads, extra))
    Z = _conv.AvgPool2d(kernel, strides, full)(X)
    H, W = X.shape[2:]
    counted = np.zeros((1, 1, H + sum(full[0]), W + sum(full[1])), dtype=X.dtype)
    inner = counted[..., full[0][0]:full[0][0] + H, full[1][0]:full[1][0] + W]
    if a.get("count_include_pad", 0):
        counted[..., :H + sum(pads[0]), :W + sum(pads[1])] = 1
    else:
        inner[...] = 1
    window = _conv.AvgPool2d(kernel, strides, ((0, 0), (0, 0)))(Tensor(counted)).data
    if np.all(window == 1):
        return [Z]
    return [Z * _const(1.0 / np.maximum(window, 1e-12))]


def _global_pool(fn):
    def run(x, a, opset):
        return [fn(x[0], axis=tuple(range(2, x[0].ndim)), keepdims=True)]
    return run


def _batch_norm(x, a, opset):
    if a.get("training_mode", 0):
        raise Unsupported("BatchNormalization: training_mode=1 (the loaded graph runs inference)")
    X, scale, B, mean, var = x[:5]
    return [_norm.BatchNorm(float(a.get("epsilon", 1e-5)), to_numpy(mean), to_numpy(var))(X, scale, B)]


def _layer_norm(x, a, opset):
    """Over the axes from `axis` on; Scale (and B) broadcast over them."""
    X = x[0]
    axis = int(a.get("axis", -1)) % X.ndim
    affine = [t for t in x[1:3] if t is not None]
    eps = float(a.get("epsilon", 1e-5))
    Y = _norm.LayerNorm(X.ndim - axis, eps)(X, *affine)
    if a["_outputs"] == 1:
        return [Y]
    axes = tuple(range(axis, X.ndim))               # the statistics, as the optional outputs
    mean = X.mean(axis=axes, keepdims=True)
    var = ((X - mean) * (X - mean)).mean(axis=axes, keepdims=True)
    return [Y, mean, (var + eps).sqrt() ** -1]


def _lrn(x, a, opset):
    """y = x / (bias + alpha / size * sum of x^2 over `size` neighbouring channels)^beta."""
    X = x[0]
    size = int(a["size"])
    alpha, beta, bias = float(a.get("alpha", 1e-4)), float(a.get("beta", 0.75)), float(a.get("bias", 1.0))
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    width = ((0, 0), (before, after)) + ((0, 0),) * (X.ndim - 2)
    S = ops.pad(X * X, width)
    C = X.shape[1]
    total = S[:, 0:C]
    for k in range(1, size):
        total = total + S[:, k:k + C]
    return [X / (total * (alpha / size) + bias) ** beta]


IMPORTERS = {
    "Gemm": _gemm, "MatMul": _binary(ops.matmul),
    "Add": _binary(ops.add), "Sub": _binary(ops.sub), "Mul": _binary(ops.mul),
    "Div": _div, "Pow": _pow,
    "Neg": _unary(ops.neg), "Exp": _unary(ops.exp), "Log": _unary(ops.log),
    "Sqrt": _unary(ops.sqrt), "Abs": _unary(ops.abs), "Sin": _unary(ops.sin), "Cos": _unary(ops.cos),
    "Relu": _unary(ops.relu), "Sigmoid": _unary(ops.sigmoid), "Tanh": _unary(ops.tanh),
    "Softplus": _unary(lambda z: _act.Softplus()(z)),
    "LeakyRelu": lambda x, a, opset: [_act.LeakyReLU(float(a.get("alpha", 0.01)))(x[0])],
    "Softmax": _softmax(False), "LogSoftmax": _softmax(True),
    "Max": _fold(ops.maximum), "Min": _fold(ops.minimum), "Sum": _fold(ops.add),
    "Clip": _clip, "Cast": _cast, "Where": _where,
    "ReduceSum": _reduce(ops.sum, 13), "ReduceMean": _reduce(ops.mean, 18),
    "ReduceMax": _reduce(ops.max, 18, -np.inf), "ReduceMin": _reduce(ops.min, 18, np.inf),
    "Identity": lambda x, a, opset: [x[0]], "Dropout": _dropout,
    "Constant": _constant, "ConstantOfShape": _constant_of_shape,
    "Conv": _conv2d, "MaxPool": _max_pool, "AveragePool": _average_pool,
    "GlobalAveragePool": _global_pool(ops.mean), "GlobalMaxPool": _global_pool(ops.max),
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm, "LRN": _lrn,
    **SHAPES,
}
