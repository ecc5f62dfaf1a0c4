"""Activations, each with its derivative written as the course writes it."""
from __future__ import annotations

import numpy as np

from ..autograd import Function


class Step(Function):
    """Heaviside step (the perceptron's activation): 1 where z > 0. Its gradient is zero."""

    def forward(self, z):
        self.z_shape = z.shape
        return (z > 0).astype(z.dtype)

    def backward(self, dA):
        return np.zeros(self.z_shape, dtype=dA.dtype)


def sigmoid_array(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow: for z < 0 use e^z / (1 + e^z)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


class Sigmoid(Function):
    def forward(self, z):
        self.A = sigmoid_array(z)
        return self.A

    def backward(self, dA):
        A = self.A
        return dA * A * (1 - A)


class Tanh(Function):
    def forward(self, z):
        self.A = np.tanh(z)
        return self.A

    def backward(self, dA):
        A = self.A
        return dA * (1 - A * A)


class ReLU(Function):
    def forward(self, z):
        self.A = np.maximum(z, 0)
        return self.A

    def backward(self, dA):
        return dA * (self.A > 0)  # 0 at z = 0, as PyTorch


class LeakyReLU(Function):
    def __init__(self, negative_slope=0.01):
        self.slope = negative_slope

    def forward(self, z):
        self.positive = z > 0
        return np.where(self.positive, z, z * z.dtype.type(self.slope))

    def backward(self, dA):
        return np.where(self.positive, dA, dA * dA.dtype.type(self.slope))


class Softmax(Function):
    """Shifted by the max so that logits of 1e4 do not overflow.

    Backward (Jacobian-vector product): dZ = A * (dA - sum(dA * A)).
    """

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, z):
        e = np.exp(z - z.max(axis=self.axis, keepdims=True))
        self.A = e / e.sum(axis=self.axis, keepdims=True)
        return self.A

    def backward(self, dA):
        A = self.A
        return A * (dA - (dA * A).sum(axis=self.axis, keepdims=True))


def log_softmax_array(z: np.ndarray, axis=-1) -> np.ndarray:
    """z - logsumexp(z), computed with the max shift."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """Backward: dZ = dA - softmax(z) * sum(dA)."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, z):
        self.A = log_softmax_array(z, self.axis)
        return self.A

    def backward(self, dA):
        return dA - np.exp(self.A) * dA.sum(axis=self.axis, keepdims=True)


class Softplus(Function):
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|) (stable); its derivative is sigmoid(z)."""

    def forward(self, z):
        self.z = z
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def backward(self, dA):
        return dA * sigmoid_array(self.z)
