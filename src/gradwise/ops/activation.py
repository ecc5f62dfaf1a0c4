"""Activations, each with its derivative written as the course writes it."""
from __future__ import annotations

import numpy as np

from .. import backend, kernels
from ..autograd import Function, is_grad_enabled

_GRAIN = 4096
"""Threaded elementwise kernels cut the flattened array at multiples of this many numbers
(a multiple of every SIMD width), so each chunk is computed exactly as in the whole."""

_MIN_CHUNK = 1 << 16
"""Numbers per chunk at least: smaller arrays are not worth handing to another thread."""


def _elementwise(kernel, z: np.ndarray) -> np.ndarray:
    """kernel(z_part, out_part) over a new array laid out like z (a conv's batch-last output
    stays batch-last for the pooling after it). With no graph to record (no_grad), a share
    per thread (backend.parallel_for) when z is a large dense float array; otherwise on z
    at once: the same numbers either way, each chunk computed as in the whole."""
    out = np.empty_like(z)
    if z.size >= 2 * _MIN_CHUNK and z.dtype.kind == "f" and not is_grad_enabled():
        order = kernels.dense_order(z)
        if order is not None and out.transpose(order).flags.c_contiguous:
            flat, flat_out = z.transpose(order).reshape(-1), out.transpose(order).reshape(-1)
            backend.parallel_for(lambda i, j: kernel(flat[i:j], flat_out[i:j]), flat.size,
                                 grain=_GRAIN, min_chunk=_MIN_CHUNK)
            return out
    kernel(z, out)  # small arrays: a hand-off to another thread costs more than it saves
    return out


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
    float_valued = True

    def forward(self, z):
        self.A = sigmoid_array(z)
        return self.A

    def backward(self, dA):
        A = self.A
        return dA * A * (1 - A)


class Tanh(Function):
    float_valued = True

    def forward(self, z):
        self.A = _elementwise(lambda part, out: np.tanh(part, out=out), z)
        return self.A

    def backward(self, dA):
        A = self.A
        if dA.dtype != A.dtype:
            return dA * (1 - A * A)
        # dZ = dA * (1 - A^2) in one new array: the same three operations, without the two
        # temporaries that dA * (1 - A * A) would allocate
        dZ = np.multiply(A, A, out=np.empty_like(A))  # in A's layout; an array even for 0-d A
        np.subtract(1, dZ, out=dZ)
        return np.multiply(dA, dZ, out=dZ)


class ReLU(Function):
    def forward(self, z):
        # one compiled pass on the calling thread: it is at memory speed, and handing parts
        # to other threads cost more than it saved (100x30x12x12: 103 us threaded, 43 alone)
        self.A = kernels.relu(z, np.empty_like(z))
        return self.A

    def backward(self, dA):
        return kernels.relu_backward(dA, self.A)  # dA where A > 0: 0 at z = 0, as PyTorch


class LeakyReLU(Function):
    float_valued = True  # the slope is a fraction (PyTorch refuses integers here)

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

    float_valued = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, z):
        e = np.exp(z - z.max(axis=self.axis, keepdims=True))
        self.A = e / e.sum(axis=self.axis, keepdims=True)
        return self.A

    def backward(self, dA):
        A = self.A
        return A * (dA - (dA * A).sum(axis=self.axis, keepdims=True))


def softmax_array(z: np.ndarray, axis=-1) -> np.ndarray:
    """e^z / sum(e^z), computed with the max shift so that no e^z overflows."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_array(z: np.ndarray, axis=-1) -> np.ndarray:
    """z - logsumexp(z), computed with the max shift."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """Backward: dZ = dA - softmax(z) * sum(dA)."""

    float_valued = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, z):
        self.A = log_softmax_array(z, self.axis)
        return self.A

    def backward(self, dA):
        return dA - np.exp(self.A) * dA.sum(axis=self.axis, keepdims=True)


class Softplus(Function):
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|) (stable); its derivative is sigmoid(z)."""

    float_valued = True

    def forward(self, z):
        self.z = z
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def backward(self, dA):
        return dA * sigmoid_array(self.z)
