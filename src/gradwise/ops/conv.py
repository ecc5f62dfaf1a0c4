"""Convolution and pooling on NCHW images, on strided views of the input.

Notation as in the course: input X (m, C, H, W), filters W (F, C, f, f), bias b (F,),
output Z (m, F, H_out, W_out) with H_out = floor((H + 2p - d(f - 1) - 1) / s) + 1.

Forward: the f x f windows of X are a strided *view* (no copy) of shape
(m, C, f, f, H_out, W_out); one copy turns it into the column matrix
col (m, C f f, H_out W_out) and one batched GEMM gives Z = W_2d @ col, already NCHW.

Backward:  dW = sum over the batch of dZ @ col^T          (the same columns, reused)
           dcol = W_2d^T @ dZ, then col2im: for each of the f x f kernel offsets, add the
           slice of dcol into X's gradient at that offset (strided slices, no np.add.at).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function

_as_strided = np.lib.stride_tricks.as_strided


def out_size(n: int, f: int, s: int, pad_total: int, d: int = 1) -> int:
    """floor((n + 2p - d (f - 1) - 1) / s) + 1, with 2p given as the total padding."""
    return (n + pad_total - d * (f - 1) - 1) // s + 1


def windows(Xp: np.ndarray, f: tuple, s: tuple, d: tuple, out_hw: tuple) -> np.ndarray:
    """A view (m, C, fh, fw, H_out, W_out) of the f x f windows of a padded input."""
    m, C = Xp.shape[:2]
    sm, sc, sh, sw = Xp.strides
    return _as_strided(
        Xp,
        shape=(m, C, f[0], f[1], out_hw[0], out_hw[1]),
        strides=(sm, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]),
        writeable=False,
    )


def pad_images(X: np.ndarray, pad: tuple, value=0.0) -> np.ndarray:
    """Pad H by (top, bottom) and W by (left, right): the course's zero_pad."""
    (t, b), (l, r) = pad
    if not (t or b or l or r):
        return X
    return np.pad(X, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def col2im(dcol6: np.ndarray, shape_p: tuple, f: tuple, s: tuple, d: tuple) -> np.ndarray:
    """Sum window gradients (m, C, fh, fw, H_out, W_out) back into the padded input's shape."""
    dXp = np.zeros(shape_p, dtype=dcol6.dtype)
    Ho, Wo = dcol6.shape[4:]
    for p in range(f[0]):
        for q in range(f[1]):
            dXp[:, :, _offset(p * d[0], s[0], Ho), _offset(q * d[1], s[1], Wo)] += dcol6[:, :, p, q]
    return dXp


def unpad(dXp: np.ndarray, pad: tuple) -> np.ndarray:
    (t, b), (l, r) = pad
    H, W = dXp.shape[2:]
    return dXp[:, :, t:H - b, l:W - r]


class Conv2d(Function):
    def __init__(self, stride=(1, 1), pad=((0, 0), (0, 0)), dilation=(1, 1)):
        self.s, self.pad, self.d = stride, pad, dilation

    def forward(self, X, W, b=None):
        F_, C, fh, fw = W.shape
        self.f = (fh, fw)
        Xp = pad_images(X, self.pad)
        self.shape_p = Xp.shape
        Ho = out_size(Xp.shape[2], fh, self.s[0], 0, self.d[0])
        Wo = out_size(Xp.shape[3], fw, self.s[1], 0, self.d[1])
        m = X.shape[0]
        # im2col: one copy of the windows view, laid out for one batched GEMM
        self.col = windows(Xp, self.f, self.s, self.d, (Ho, Wo)).reshape(m, C * fh * fw, Ho * Wo)
        self.W2 = W.reshape(F_, -1)
        Z = np.matmul(self.W2, self.col)               # (m, F, Ho Wo)
        if b is not None:
            Z += b[:, None]
        return Z.reshape(m, F_, Ho, Wo)

    def backward(self, dZ):
        m, F_, Ho, Wo = dZ.shape
        dZ = dZ.reshape(m, F_, Ho * Wo)
        dX = dW = db = None
        if self.needs_grad[1]:
            # dW = sum over examples i of dZ_i col_i^T (batched GEMMs, then the sum)
            dW = np.matmul(dZ, self.col.transpose(0, 2, 1)).sum(axis=0).reshape(F_, -1, *self.f)
        if len(self.needs_grad) == 3 and self.needs_grad[2]:
            db = dZ.sum(axis=(0, 2))
        if self.needs_grad[0]:
            dcol = np.matmul(self.W2.T, dZ)            # (m, C f f, Ho Wo)
            C = self.shape_p[1]
            dcol6 = dcol.reshape(m, C, self.f[0], self.f[1], Ho, Wo)
            dX = unpad(col2im(dcol6, self.shape_p, self.f, self.s, self.d), self.pad)
        return (dX, dW, db) if len(self.needs_grad) == 3 else (dX, dW)


class MaxPool2d(Function):
    """Max over each window; the gradient goes to the window's arg-max (the first on ties,
    as PyTorch)."""

    def __init__(self, kernel=(2, 2), stride=(2, 2), pad=((0, 0), (0, 0))):
        self.f, self.s, self.pad = kernel, stride, pad

    def _slices(self, Ho, Wo):
        """For each kernel offset (p, q), the strided slice of the input it reads."""
        for p, q in np.ndindex(*self.f):
            yield (slice(None), slice(None), _offset(p, self.s[0], Ho), _offset(q, self.s[1], Wo))

    def forward(self, X):
        self.Xp = pad_images(X, self.pad, value=-np.inf) if X.dtype.kind == "f" else pad_images(X, self.pad)
        Ho = out_size(self.Xp.shape[2], self.f[0], self.s[0], 0)
        Wo = out_size(self.Xp.shape[3], self.f[1], self.s[1], 0)
        # a running max over the f x f offsets: f*f cheap passes over strided slices
        slices = self._slices(Ho, Wo)
        self.Z = self.Xp[next(slices)].copy()
        for sl in slices:
            np.maximum(self.Z, self.Xp[sl], out=self.Z)
        return self.Z

    def backward(self, dZ):
        dXp = np.zeros(self.Xp.shape, dtype=dZ.dtype)
        taken = np.zeros(dZ.shape, dtype=bool)   # windows whose max already got the gradient
        for sl in self._slices(*dZ.shape[2:]):
            hit = (self.Xp[sl] == self.Z) & ~taken
            taken |= hit
            dXp[sl] += dZ * hit
        return unpad(dXp, self.pad)


def _offset(start: int, stride: int, n: int) -> slice:
    """The input rows (or columns) that kernel offset `start` touches for n outputs."""
    return slice(start, start + stride * (n - 1) + 1, stride)


class AvgPool2d(Function):
    """Mean over each window (padding counts as zeros, as PyTorch's count_include_pad)."""

    def __init__(self, kernel=(2, 2), stride=(2, 2), pad=((0, 0), (0, 0))):
        self.f, self.s, self.pad = kernel, stride, pad

    def forward(self, X):
        Xp = pad_images(X, self.pad)
        self.shape_p = Xp.shape
        Ho = out_size(Xp.shape[2], self.f[0], self.s[0], 0)
        Wo = out_size(Xp.shape[3], self.f[1], self.s[1], 0)
        return windows(Xp, self.f, self.s, (1, 1), (Ho, Wo)).mean(axis=(2, 3))

    def backward(self, dZ):
        m, C, Ho, Wo = dZ.shape
        share = dZ / dZ.dtype.type(self.f[0] * self.f[1])
        dcol6 = np.broadcast_to(share[:, :, None, None], (m, C, *self.f, Ho, Wo))
        return unpad(col2im(dcol6, self.shape_p, self.f, self.s, (1, 1)), self.pad)
