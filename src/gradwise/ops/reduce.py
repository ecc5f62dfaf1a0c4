"""Reductions: sum, mean, max, min, var (over all elements or chosen axes, keepdims)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function


def _axes(axis, ndim):
    """Normalized tuple of reduced axes (all of them when axis is None)."""
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axis))


def _keep(gy, axes, keepdims):
    """Re-insert the reduced axes of gy as size-1 axes, so it broadcasts against x."""
    return gy if keepdims else np.expand_dims(gy, axes)


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = _axes(self.axis, x.ndim)
        return np.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return np.broadcast_to(_keep(gy, self.axes, self.keepdims), self.shape)


class Mean(Function):
    float_valued = True

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = _axes(self.axis, x.ndim)
        self.n = int(np.prod([x.shape[a] for a in self.axes]))
        return np.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        g = _keep(gy, self.axes, self.keepdims) / gy.dtype.type(self.n)
        return np.broadcast_to(g, self.shape)


class Max(Function):
    """max over axes; the gradient is shared evenly among tied maxima."""

    pick = staticmethod(np.max)

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = _axes(self.axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}() of an empty tensor {x.shape}")
        self.y = self.pick(x, axis=self.axes, keepdims=True)
        return self.y if self.keepdims else np.squeeze(self.y, self.axes)

    def backward(self, gy):
        mask = self.x == self.y
        count = mask.sum(axis=self.axes, keepdims=True)
        return mask * (_keep(gy, self.axes, self.keepdims) / count).astype(gy.dtype)


class Min(Max):
    pick = staticmethod(np.min)


class Var(Function):
    """Variance with Bessel's correction by default (correction=1), as torch.var.

    d var / dx = 2 (x - mean) / (n - correction).
    """

    float_valued = True

    def __init__(self, axis=None, keepdims=False, correction=1):
        self.axis, self.keepdims, self.correction = axis, keepdims, correction

    def forward(self, x):
        self.axes = _axes(self.axis, x.ndim)
        n = int(np.prod([x.shape[a] for a in self.axes]))
        self.dof = n - self.correction
        if self.dof <= 0:
            raise ValueError(
                f"var(): {n} element(s) per reduction leave no degrees of freedom with "
                f"correction={self.correction}"
            )
        self.xc = x - x.mean(axis=self.axes, keepdims=True)
        return np.sum(self.xc * self.xc, axis=self.axes, keepdims=self.keepdims) / self.dof

    def backward(self, gy):
        return _keep(gy, self.axes, self.keepdims) * (2 / self.dof) * self.xc
