"""Losses, fused with their last activation where that is the stable form.

Targets are data, not inputs: they are given to the op's constructor and get no gradient
(except in mse_loss, where both sides are inputs as in PyTorch).
reduction: 'mean' (divide by the number of examples m), 'sum' or 'none' (one loss per example).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .activation import log_softmax_array, sigmoid_array


def _reduce(L: np.ndarray, reduction: str):
    if reduction == "mean":
        return L.mean() if L.size else np.asarray(np.nan, dtype=L.dtype)
    if reduction == "sum":
        return L.sum()
    return L


def _scale(gy, reduction: str, m: int, dtype):
    """The gradient of the reduction: 1/m for the mean; gy itself carries the rest."""
    gy = np.asarray(gy, dtype=dtype)
    if reduction == "mean":
        return gy / dtype.type(m)
    return gy


class MSELoss(Function):
    """L = (Y_hat - Y)^2, mean over all elements; dY_hat = 2 (Y_hat - Y) / n."""

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, y_hat, y):
        self.diff = y_hat - y
        return _reduce(self.diff * self.diff, self.reduction)

    def backward(self, gy):
        g = _scale(gy, self.reduction, self.diff.size, self.diff.dtype)
        d = 2 * g * self.diff
        return d, -d


class CrossEntropy(Function):
    """Softmax cross-entropy on logits Z (m, C), the fused form.

    L = -sum_c Y_c log softmax(Z)_c;  dZ = (softmax(Z) sum_c Y_c - Y) / m,
    which is the familiar (softmax(Z) - Y) / m when each row of Y sums to 1.
    Targets are integer labels (m,) or probabilities (m, C) (soft targets, as PyTorch,
    need not sum to 1).
    """

    def __init__(self, target: np.ndarray, reduction="mean"):
        self.target, self.reduction = target, reduction

    def forward(self, Z):
        self.logp = log_softmax_array(Z, axis=1)
        t = self.target
        if t.ndim == 1:
            L = -self.logp[np.arange(len(t)), t]
        else:
            L = -(t * self.logp).sum(axis=1)
        return _reduce(L, self.reduction)

    def backward(self, gy):
        m = self.logp.shape[0]
        dZ = np.exp(self.logp)  # softmax(Z), a fresh array we may edit in place
        t = self.target
        if t.ndim == 1:
            dZ[np.arange(m), t] -= 1
        else:
            dZ *= t.sum(axis=1, keepdims=True)  # sum_c Y_c (1 for a distribution)
            dZ -= t
        g = _scale(gy, self.reduction, m, dZ.dtype)
        return dZ * (g[:, None] if g.ndim == 1 else g)


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities A (m, C) at integer labels t."""

    def __init__(self, target: np.ndarray, reduction="mean"):
        self.target, self.reduction = target, reduction

    def forward(self, logp):
        self.shape, self.dtype = logp.shape, logp.dtype
        return _reduce(-logp[np.arange(len(self.target)), self.target], self.reduction)

    def backward(self, gy):
        m = self.shape[0]
        g = np.broadcast_to(_scale(gy, self.reduction, m, self.dtype), (m,))
        dA = np.zeros(self.shape, dtype=self.dtype)
        dA[np.arange(m), self.target] = -g
        return dA


class BinaryCrossEntropy(Function):
    """On probabilities A (clipped to [eps, 1 - eps] so log never sees 0):

    L = -(Y log A + (1 - Y) log(1 - A));  dA = (A - Y) / (A (1 - A)) / m.
    """

    def __init__(self, target: np.ndarray, reduction="mean", eps=1e-7):
        self.Y, self.reduction, self.eps = target, reduction, eps

    def forward(self, A):
        self.A = np.clip(A, self.eps, 1 - self.eps)
        Y = self.Y
        return _reduce(-(Y * np.log(self.A) + (1 - Y) * np.log(1 - self.A)), self.reduction)

    def backward(self, gy):
        A, Y = self.A, self.Y
        g = _scale(gy, self.reduction, A.size, A.dtype)
        return g * (A - Y) / (A * (1 - A))


class BCEWithLogits(Function):
    """Sigmoid and binary cross-entropy fused, on logits Z:

    L = max(Z, 0) - Z Y + log(1 + e^-|Z|);  dZ = (sigmoid(Z) - Y) / m.
    """

    def __init__(self, target: np.ndarray, reduction="mean"):
        self.Y, self.reduction = target, reduction

    def forward(self, Z):
        self.Z = Z
        L = np.maximum(Z, 0) - Z * self.Y + np.log1p(np.exp(-np.abs(Z)))
        return _reduce(L, self.reduction)

    def backward(self, gy):
        g = _scale(gy, self.reduction, self.Z.size, self.Z.dtype)
        return g * (sigmoid_array(self.Z) - self.Y)
