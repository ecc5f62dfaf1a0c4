"""The arithmetic operators: + - * / ** unary minus and @ (matmul, batched too).

Each backward returns the gradient with the *output's* shape when inputs were broadcast;
the engine (autograd.sum_to) sums it back to each input's shape.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import matmul


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, -gy


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        da = gy * self.b if self.needs_grad[0] else None
        db = gy * self.a if self.needs_grad[1] else None
        return da, db


class Div(Function):
    float_valued = True

    def forward(self, a, b):
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, gy):
        da = gy / self.b
        db = -da * self.y if self.needs_grad[1] else None  # d(a/b)/db = -a/b^2 = -y/b
        return da, db


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = a ** b.  da = b a^(b-1) gy;  db = y log(a) gy (defined for a > 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, gy):
        a, b = self.a, self.b
        da = gy * b * a ** (b - 1) if self.needs_grad[0] else None
        db = gy * self.y * np.log(a) if self.needs_grad[1] else None
        return da, db


class MatMul(Function):
    """Z = A @ B with NumPy's rules (1-D operands, broadcast batch dimensions).

    dA = dZ @ B^T,  dB = A^T @ dZ; a 1-D operand is treated as a row (A) or column (B).
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        return matmul(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # restore the axes a 1-D operand dropped: B's column axis first, so that for
        # 1-D @ 1-D the scalar gy becomes (1,) and then (1, 1)
        if b.ndim == 1:
            gy = np.expand_dims(gy, -1)
        if a.ndim == 1:
            gy = np.expand_dims(gy, -2)
        da = db = None
        if self.needs_grad[0]:
            da = matmul(gy, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                da = da[..., 0, :]
        if self.needs_grad[1]:
            db = matmul(np.swapaxes(a2, -1, -2), gy)
            if b.ndim == 1:
                db = db[..., :, 0]
        return da, db
