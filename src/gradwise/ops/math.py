"""Elementwise math: exp, log, sqrt, sin, cos, abs, clip, maximum, minimum, where, and the
cast between floating dtypes."""
from __future__ import annotations

import numpy as np

from ..autograd import Function


class Exp(Function):
    float_valued = True

    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    float_valued = True

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, gy):
        return gy / self.x


class Sqrt(Function):
    float_valued = True

    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Sin(Function):
    float_valued = True

    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, gy):
        return gy * np.cos(self.x)


class Cos(Function):
    float_valued = True

    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, gy):
        return -gy * np.sin(self.x)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, gy):
        return gy * np.sign(self.x)  # 0 at x = 0, as PyTorch


class Clip(Function):
    """Clamp x to [lo, hi]; the gradient flows where lo <= x <= hi (inclusive, as PyTorch)."""

    def __init__(self, lo=None, hi=None):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.x = x
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        inside = np.ones(self.x.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.x >= self.lo
        if self.hi is not None:
            inside &= self.x <= self.hi
        return gy * inside


class Maximum(Function):
    """Elementwise max; at ties the gradient is shared half and half (as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, gy):
        wa = (self.a > self.b) + 0.5 * (self.a == self.b)
        return gy * wa.astype(gy.dtype), gy * (1 - wa).astype(gy.dtype)


class Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, gy):
        wa = (self.a < self.b) + 0.5 * (self.a == self.b)
        return gy * wa.astype(gy.dtype), gy * (1 - wa).astype(gy.dtype)


class Where(Function):
    """where(cond, a, b): a where cond holds, else b. cond is data, not an input."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return np.where(self.cond, a, b)

    def backward(self, gy):
        zero = np.zeros((), dtype=gy.dtype)
        return np.where(self.cond, gy, zero), np.where(self.cond, zero, gy)


class Cast(Function):
    """y = x in another floating dtype (float32 <-> float64, ...): y = x up to rounding, so
    dx = dy, cast back to x's dtype. (Casts to integer dtypes are not differentiable and do
    not come here: see ops.astype.)"""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.x_dtype)
