"""Inverted dropout, as the course writes it.

    D = (rand(A.shape) < keep_prob)      keep_prob = 1 - p
    A = A * D / keep_prob                 the expected activation is unchanged
    dA = dA * D / keep_prob               the same units are silenced in backprop

The mask (already divided by keep_prob) is drawn by the caller from gradwise's generator,
so a test can fix it.

A and dA keep their memory layout through the product: a batch-last activation (a Linear
layer's or a convolution's output) stays batch-last, so the layer after reads it without a
layout change. NumPy's A * D would give A's layout only when D has it too; with D row-major,
the next Linear's GEMM took a transposed operand and ReLU's backward met a gradient laid out
unlike its activation. With dropout after each ReLU, a training step at batch 100 went from
0.95 to 0.77 ms for the MLP 784-100-100-10 and from 12.1 to 10.6 ms for SimpleConvNet
(`python benchmarks/conv_ab.py dropout`, AMD EPYC; 0.93x and 0.92x since ReLU's backward
copies a gradient of another layout itself).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function


def keep_mask(rng: np.random.Generator, A: np.ndarray, keep_prob: float) -> np.ndarray:
    """D = rand(A.shape) < keep_prob, laid out in memory as A. The draws are those of
    rand(A.shape) whatever A's layout, so a seed gives the same mask."""
    D = np.empty_like(A, dtype=bool)
    return np.less(rng.random(A.shape, dtype=np.float32), keep_prob, out=D)


def _times(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """x * mask, laid out as x."""
    return np.multiply(x, mask, out=np.empty_like(x, dtype=np.result_type(x, mask)))


class Dropout(Function):
    float_valued = True

    def __init__(self, mask):
        self.mask = mask  # D / keep_prob

    def forward(self, A):
        return _times(A, self.mask)

    def backward(self, dA):
        return _times(dA, self.mask)
