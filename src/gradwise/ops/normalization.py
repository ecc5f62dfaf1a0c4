"""Batch normalization, fused, with the closed-form backward.

For X of shape (m, C) or (m, C, H, W), statistics are per feature / per channel (axis 1),
taken over every other axis (batch and, for images, the pixels):

    mu = mean(X),  var = mean((X - mu)^2),  Xhat = (X - mu) / sqrt(var + eps)
    Y = gamma Xhat + beta

    dbeta = sum(dY),  dgamma = sum(dY Xhat)
    dX = gamma / (m sqrt(var + eps)) * (m dY - dbeta - Xhat dgamma)

With fixed statistics (evaluation: the running mean and variance) Y is an affine map of X and
dX = gamma dY / sqrt(var + eps).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function


class BatchNorm(Function):
    fresh_grads = True  # dX, dgamma, dbeta are new arrays

    def __init__(self, eps=1e-5, mean=None, var=None):
        self.eps = eps
        self.fixed = mean is not None  # evaluation mode: use the given statistics
        self.mean, self.var = mean, var

    def forward(self, X, gamma, beta):
        self.axes = (0,) + tuple(range(2, X.ndim))
        shape = (1, -1) + (1,) * (X.ndim - 2)  # broadcasts per-channel values over X
        if self.fixed:
            mu, var = self.mean.reshape(shape), self.var.reshape(shape)
            Xhat = X - mu
        else:
            mu = X.mean(axis=self.axes, keepdims=True)
            Xhat = X - mu                                   # centred, normalized in place below
            var = np.square(Xhat).mean(axis=self.axes, keepdims=True)
            self.mean, self.var = mu.reshape(-1), var.reshape(-1)  # for the running averages
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(X.dtype, copy=False)
        Xhat *= self.inv_std
        self.Xhat = Xhat
        self.gamma = gamma.reshape(shape)
        Y = Xhat * self.gamma
        Y += beta.reshape(shape)
        return Y

    def backward(self, dY):
        dbeta = dY.sum(axis=self.axes)
        dgamma = (dY * self.Xhat).sum(axis=self.axes)
        k = self.gamma * self.inv_std                       # dY/dXhat, per channel
        dX = dY * k
        if not self.fixed:
            # dX = k / m (m dY - dbeta - Xhat dgamma), in three passes over X
            m = dY.size // dbeta.size
            shape = self.gamma.shape
            dX -= self.Xhat * (k * dgamma.reshape(shape) / m)
            dX -= k * dbeta.reshape(shape) / m
        return dX, dgamma, dbeta


class LayerNorm(Function):
    """Layer normalization: each example normalized over its own last k axes (its features),
    so the statistics do not depend on the batch and are the same in training and evaluation:

        mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps)
        y = gamma xhat + beta               gamma, beta of the normalized shape (optional)

        dxhat = dy gamma
        dx = 1 / (n sqrt(var + eps)) * (n dxhat - sum(dxhat) - xhat sum(dxhat xhat))
    where n is the number of features and the sums run over them (batch norm's formula with
    the roles of the axes swapped).

    forward(X (..., *normalized_shape)[, gamma, beta])
    """

    fresh_grads = True

    def __init__(self, ndim: int, eps: float = 1e-5):
        self.axes, self.eps = tuple(range(-ndim, 0)), eps

    def forward(self, X, *affine):
        mu = X.mean(axis=self.axes, keepdims=True)
        Xhat = X - mu
        var = np.square(Xhat).mean(axis=self.axes, keepdims=True)
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(X.dtype, copy=False)
        Xhat *= self.inv_std
        self.Xhat, self.affine = Xhat, affine
        Y = Xhat * affine[0] if affine else Xhat.copy()
        if len(affine) == 2:
            Y += affine[1]
        return Y

    def backward(self, dY):
        Xhat, axes, affine = self.Xhat, self.axes, self.affine
        lead = tuple(range(dY.ndim - len(axes)))         # the batch axes, summed for gamma, beta
        grads = []
        if affine:
            grads.append((dY * Xhat).sum(axis=lead))
            if len(affine) == 2:
                grads.append(dY.sum(axis=lead))
            dXhat = dY * affine[0]
        else:
            dXhat = dY
        n = int(np.prod(Xhat.shape[len(lead):]))       # features per example
        dX = n * dXhat
        dX -= dXhat.sum(axis=axes, keepdims=True)
        dX -= Xhat * (dXhat * Xhat).sum(axis=axes, keepdims=True)
        dX *= self.inv_std / n
        return (dX, *grads)
