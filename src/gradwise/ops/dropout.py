"""Inverted dropout, as the course writes it.

    D = (rand(A.shape) < keep_prob)      keep_prob = 1 - p
    A = A * D / keep_prob                 the expected activation is unchanged
    dA = dA * D / keep_prob               the same units are silenced in backprop

The mask (already divided by keep_prob) is drawn by the caller from gradwise's generator,
so a test can fix it.
"""
from __future__ import annotations

from ..autograd import Function


class Dropout(Function):
    float_valued = True

    def __init__(self, mask):
        self.mask = mask  # D / keep_prob

    def forward(self, A):
        return A * self.mask

    def backward(self, dA):
        return dA * self.mask
