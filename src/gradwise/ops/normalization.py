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
