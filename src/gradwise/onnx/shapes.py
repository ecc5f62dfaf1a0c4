"""The ONNX shape ops (Reshape, Flatten, Transpose, Unsqueeze, Squeeze, Expand, Concat, Pad,
Gather, Slice, Split) as gradwise ops: reshapes, permutes, concatenation, padding and indexing,
each with its gradient."""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..tensor import to_numpy
from .common import Unsupported, _axes_of


def _reshape(x, a, opset):
    shape = [int(v) for v in to_numpy(x[1])]
    if not a.get("allowzero", 0):
        shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return [x[0].reshape(*shape)]


def _flatten(x, a, opset):
    axis = int(a.get("axis", 1))
    axis = axis + x[0].ndim if axis < 0 else axis
    return [x[0].reshape(math.prod(x[0].shape[:axis]), math.prod(x[0].shape[axis:]))]


def _transpose(x, a, opset):
    perm = a.get("perm") or list(range(x[0].ndim))[::-1]
    return [ops.permute(x[0], *perm)]


def _unsqueeze(x, a, opset):
    axes = _axes_of(x, a, opset, 13)
    n = x[0].ndim + len(axes)
    axes = sorted(int(ax) % n for ax in axes)
    shape = list(x[0].shape)
    for ax in axes:
        shape.insert(ax, 1)
    return [x[0].reshape(*shape)]


def _squeeze(x, a, opset):
    axes = _axes_of(x, a, opset, 13)
    if axes is None:
        return [x[0].reshape(*[n for n in x[0].shape if n != 1])]
    drop = {int(ax) % x[0].ndim for ax in axes}
    return [x[0].reshape(*[n for i, n in enumerate(x[0].shape) if i not in drop])]


def _expand(x, a, opset):
    shape = np.broadcast_shapes(x[0].shape, tuple(int(v) for v in to_numpy(x[1])))
    return [ops.broadcast_to(x[0], shape)]


def _concat(x, a, opset):
    parts = [t for t in x if t is not None and t.size > 0] or [x[0]]
    return [ops.concatenate(parts, axis=int(a["axis"]))]


def _pad(x, a, opset):
    mode = a.get("mode", "constant")
    if mode != "constant":
        raise Unsupported(f"Pad: mode {mode!r} (gradwise pads with a constant)")
    if opset < 11:
        pads, value, axes = a["pads"], a.get("value", 0.0), None
    else:
        pads = [int(v) for v in to_numpy(x[1])]
        value = to_numpy(x[2]).item() if len(x) > 2 and x[2] is not None and x[2].size else 0
        axes = [int(v) for v in to_numpy(x[3])] if len(x) > 3 and x[3] is not None else None
    axes = [ax % x[0].ndim for ax in (axes if axes is not None else range(x[0].ndim))]
    k = len(axes)
    width = [(0, 0)] * x[0].ndim
    for i, ax in enumerate(axes):
        width[ax] = (int(pads[i]), int(pads[i + k]))
    if any(b < 0 or e < 0 for b, e in width):
        raise Unsupported("Pad: negative pads (cropping)")
    return [ops.pad(x[0], tuple(width), value=value)]


def _gather(x, a, opset):
    """np.take(data, indices, axis) as indexing, so the data keeps its gradient."""
    data, indices = x[0], to_numpy(x[1]).astype(np.int64)
    axis = int(a.get("axis", 0)) % data.ndim
    return [data[(slice(None),) * axis + (indices,)]]


def _slice(x, a, opset):
    """Python's slicing clamps starts and ends as ONNX's Slice does, steps included."""
    if opset < 10:
        starts, ends, axes, steps = a["starts"], a["ends"], a.get("axes"), None
    else:
        starts, ends = (list(to_numpy(v).reshape(-1)) for v in x[1:3])
        axes = list(to_numpy(x[3]).reshape(-1)) if len(x) > 3 and x[3] is not None else None
        steps = list(to_numpy(x[4]).reshape(-1)) if len(x) > 4 and x[4] is not None else None
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x[0].ndim
    for ax, b, e, st in zip(axes, starts, ends, steps):
        index[int(ax) % x[0].ndim] = slice(int(b), int(e), int(st))
    return [x[0][tuple(index)]]


def _split(x, a, opset):
    axis = int(a.get("axis", 0)) % x[0].ndim
    n = x[0].shape[axis]
    sizes = a.get("split") if opset < 13 else (
        [int(v) for v in to_numpy(x[1])] if len(x) > 1 and x[1] is not None else None)
    if sizes is None:
        parts = int(a.get("num_outputs", 0)) or a["_outputs"]
        step = -(-n // parts)                       # ONNX: equal parts, the last one smaller
        sizes = [min(step, n - k * step) for k in range(parts)]
    bounds = np.cumsum([0, *sizes])
    pick = (slice(None),) * axis
    return [x[0][pick + (slice(int(b), int(e)),)] for b, e in zip(bounds[:-1], bounds[1:])]


SHAPES = {
    "Reshape": _reshape, "Flatten": _flatten, "Transpose": _transpose, "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze, "Expand": _expand, "Concat": _concat, "Pad": _pad,
    "Gather": _gather, "Slice": _slice, "Split": _split,
}
