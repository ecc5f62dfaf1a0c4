"""Ops that move elements without changing them: reshape, permute, broadcast, join, pad, index."""
from __future__ import annotations

import numpy as np

from ..autograd import Function


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot view a tensor of shape {x.shape} ({x.size} elements) "
                f"as shape {tuple(self.shape)}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.x_shape)


class Permute(Function):
    """Reorder axes; the backward applies the inverse permutation."""

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return np.transpose(x, self.axes)

    def backward(self, gy):
        return np.transpose(gy, np.argsort(self.axes))


class BroadcastTo(Function):
    """Broadcasting backward is summation, which the engine does for every op."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, gy):
        return gy


class Concatenate(Function):
    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        self.splits = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(np.split(gy, self.splits, axis=self.axis))


class Stack(Function):
    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        return np.stack(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(np.moveaxis(gy, self.axis, 0))


class Pad(Function):
    """Constant padding with NumPy's pad_width ((before, after) per axis)."""

    def __init__(self, pad_width, value=0.0):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        self.inner = tuple(slice(b, b + n) for (b, _), n in zip(self.pad_width, x.shape))
        return np.pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return gy[self.inner]


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) for p in parts)


class GetItem(Function):
    """x[index]: basic slicing or integer/boolean arrays.

    Backward scatters gy into zeros; integer arrays may repeat an element, so they add
    with np.add.at, while slices (no repeats) assign.
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.x_shape, self.x_dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        gx = np.zeros(self.x_shape, dtype=gy.dtype)
        if _is_advanced(self.index):
            np.add.at(gx, self.index, gy)
        else:
            gx[self.index] = gy
        return gx
