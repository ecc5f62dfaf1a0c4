"""Convolution and pooling, as the course writes them, on the kernels' batch-last arrays.

Notation as in the course: input X (m, C, H, W), filters W (F, C, f, f), bias b (F,),
output Z (m, F, H_out, W_out) with H_out = floor((H + 2p - d(f - 1) - 1) / s) + 1.

Convolution is one GEMM on the im2col columns (gradwise.kernels), the bias riding in it as
the course folds b into W with an input x0 = 1:

    Forward:  col = im2col(X)                 (C f f + 1, H_out W_out m)
              Z   = [W_2d | b] @ col          (F, H_out W_out m)
    Backward: [dW | db] = dZ @ col^T          the columns, saved, are reused
              dX  = col2im(W_2d^T @ dZ)       the adjoint of im2col

A layer with few filters (kernels.DIRECT_MAX_FILTERS, LeNet-5's first) runs its forward as
the sum itself, Z[f] = b[f] + sum over (c, p, q) of W[f, c, p, q] X[c, i + p, j + q]
(kernels.conv_direct): its GEMM would have only F rows, far below BLAS's speed, after a pass
writing the columns. Its dW is those sums' own adjoint, dW[f, c, p, q] = the sum over the
outputs of dZ[f] X[c, i + p, j + q], again without columns; dX, as below.

The kernels keep images batch-last, (C, H, W, m), so the Z of the GEMM is already in the
layout the next layer reads: the op returns it as an (m, F, H_out, W_out) view of that
memory, and a gradient coming back in another layout is copied once (batch_last_matrix).

Pooling keeps, for each window, the pixel its max came from (one byte per output) and sends
the gradient there; average pooling spreads dZ / (f f) over the window.
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd import Function


def out_size(n: int, f: int, s: int, pad_total: int, d: int = 1) -> int:
    """floor((n + 2p - d (f - 1) - 1) / s) + 1, with 2p given as the total padding."""
    return (n + pad_total - d * (f - 1) - 1) // s + 1


def _out_hw(shape, f, s, pad, d=(1, 1)) -> tuple:
    return tuple(out_size(n, f[k], s[k], sum(pad[k]), d[k]) for k, n in enumerate(shape[2:]))


class Conv2d(Function):
    """Z = W * X + b: Z = [W_2d | b] @ [col; 1] forward, [dW | db] = dZ @ [col; 1]^T and
    dX = col2im(W_2d^T @ dZ) backward (see the module docstring)."""

    fresh_grads = True  # dX, dW, db are new arrays

    def __init__(self, stride=(1, 1), pad=((0, 0), (0, 0)), dilation=(1, 1)):
        self.s, self.pad, self.d = stride, pad, dilation

    def forward(self, X, W, b=None):
        F_, _, fh, fw = W.shape
        self.f, self.W_shape = (fh, fw), W.shape
        Ho, Wo = self.out_hw = _out_hw(X.shape, self.f, self.s, self.pad, self.d)
        Xb = kernels.batch_last(X)                                        # (C, H, W, m)
        self.X_shape, self.W2 = Xb.shape, W.reshape(F_, -1)
        if kernels.conv_direct_pays(W, Xb):  # few filters: no columns, forward or backward
            self.Xb, self.col = Xb, None
            Z = kernels.conv_direct(Xb, W, b, self.s, self.pad, self.d, self.out_hw)
        else:
            self.col = kernels.im2col(Xb, self.f, self.s, self.pad, self.d, self.out_hw,
                                      bias_row=b is not None)
            W2b = self.W2 if b is None else np.concatenate([self.W2, b[:, None]], axis=1)
            Z = kernels.matmul(W2b, self.col)                             # (F, Ho Wo m)
        return kernels.from_batch_last(Z.reshape(F_, Ho, Wo, -1))

    def backward(self, dZ):
        dZ2 = kernels.batch_last_matrix(dZ)                               # (F, Ho Wo m)
        with_b = len(self.needs_grad) == 3
        dX = dW = db = None
        if self.needs_grad[1] or (with_b and self.needs_grad[2]):
            dW, db = self._weight_grads(dZ2, with_b)
        if self.needs_grad[0]:
            dcol = kernels.matmul(self.W2.T, dZ2)                         # (C f f, Ho Wo m)
            dX = kernels.from_batch_last(kernels.col2im(
                dcol, self.X_shape, self.f, self.s, self.pad, self.d, self.out_hw))
        return (dX, dW, db) if with_b else (dX, dW)

    def _weight_grads(self, dZ2, with_b):
        if self.col is None:  # the direct forward: dW by its own sums, db = sum of dZ
            dW = kernels.conv_direct_weight_grad(self.Xb, dZ2.reshape(-1, *self.out_hw, self.Xb.shape[3]),
                                                 self.W_shape, self.s, self.pad, self.d)
            return dW, (dZ2.sum(axis=1) if with_b else None)
        dWb = _weight_grad(dZ2, self.col)                                 # [dW | db]
        K = self.W2.shape[1]
        return dWb[:, :K].reshape(self.W_shape), (dWb[:, K].copy() if with_b else None)


_CHUNK_BYTES = 1 << 18
"""A piece of dZ and col that the weight gradient sums at once (256 KiB). Larger pieces of
a window of 26 or more rows ran up to 2.5 times slower on OpenBLAS (SimpleConvNet's layer,
30 x 26 over 57,600 columns: 1.31 ms in pieces of 1,170 columns, 2.20 ms in pieces of
2,340); windows of 10 rows lose 5-10% with them (benchmarks/README.md)."""


def _weight_grad(dZ2, col):
    """[dW | db] = dZ @ col^T. For small layers (few filters, small windows) over many
    columns, summed over pieces of the columns that fit in cache: BLAS runs a GEMM with a
    tiny output and a long inner dimension far below its speed (LeNet-5's first layer is
    one). With fewer filters than half the window size, as (col dZ^T)^T: OpenBLAS blocks
    that shape better. benchmarks/README.md has the timings."""
    (F_, N), K = dZ2.shape, col.shape[0]
    n = max(1024, _CHUNK_BYTES // (dZ2.itemsize * (F_ + K)))
    if F_ * K > 1024 or N < 4 * n:
        return kernels.matmul(col, dZ2.T).T if 2 * F_ <= K else kernels.matmul(dZ2, col.T)
    dWb = dZ2[:, :n] @ col[:, :n].T
    for i in range(n, N, n):
        dWb += dZ2[:, i:i + n] @ col[:, i:i + n].T
    return dWb


class MaxPool2d(Function):
    """Max over each window; the gradient goes to the window's arg-max (the first on ties,
    in row-major order; a NaN in the window is the max, as PyTorch)."""

    fresh_grads = True

    def __init__(self, kernel=(2, 2), stride=(2, 2), pad=((0, 0), (0, 0))):
        self.f, self.s, self.pad = kernel, stride, pad

    def forward(self, X):
        if X.dtype.kind in "cb":
            raise TypeError(f"max_pool2d: expected real numbers, got dtype {X.dtype} (complex "
                            "numbers have no order: pool their magnitude or real part; cast "
                            "booleans to a number type)")
        Xb = kernels.batch_last(X)
        self.X_shape = Xb.shape
        Z, self.arg = kernels.max_pool(Xb, self.f, self.s, self.pad, _out_hw(X.shape, self.f, self.s, self.pad))
        return kernels.from_batch_last(Z)

    def backward(self, dZ):
        dX = kernels.max_pool_backward(kernels.batch_last(dZ), self.arg, self.X_shape,
                                       self.f, self.s, self.pad)
        return kernels.from_batch_last(dX)


class AvgPool2d(Function):
    """Mean over each window (padding counts as zeros, as PyTorch's count_include_pad).

    Forward: Z = (sum of the window) / (f f). Backward: every pixel of a window gets
    dZ / (f f), summed where windows overlap."""

    float_valued = True
    fresh_grads = True

    def __init__(self, kernel=(2, 2), stride=(2, 2), pad=((0, 0), (0, 0))):
        self.f, self.s, self.pad = kernel, stride, pad

    def forward(self, X):
        Xb = kernels.batch_last(X)
        self.X_shape = Xb.shape
        Z = kernels.avg_pool(Xb, self.f, self.s, self.pad, _out_hw(X.shape, self.f, self.s, self.pad))
        return kernels.from_batch_last(Z)

    def backward(self, dZ):
        dX = kernels.avg_pool_backward(kernels.batch_last(dZ), self.X_shape, self.f, self.s, self.pad)
        return kernels.from_batch_last(dX)
