"""The embedding lookup: a gather forward, a scatter-add backward.

    forward:  E[indices]                 E (V, D), indices of any shape (..., ) -> (..., D)
    backward: dE[v] = sum of dY over the positions where indices == v

Looking a word up is the product of its one-hot vector o_v with E (the course's E o_v = e_v);
the gather does that without building the one-hot matrix, and the backward adds each row of
dY into the row of dE it came from. A word repeated in the batch gets the sum of its rows.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function


def scatter_add_rows(indices: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """out (n, D) with out[v] = sum of rows[k] where indices[k] == v: the rows sorted by
    index and summed run by run (np.add.reduceat), an order of magnitude faster than
    np.add.at's one-row-at-a-time update."""
    out = np.zeros((n, rows.shape[-1]), dtype=rows.dtype)
    if indices.size == 0:
        return out
    order = np.argsort(indices, kind="stable")
    ids = indices[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    out[ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


class Embedding(Function):
    """E[indices]; the row padding_idx (if any) gets no gradient, as in PyTorch."""

    fresh_grads = True

    def __init__(self, indices: np.ndarray, padding_idx: int | None = None):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, E):
        self.n = E.shape[0]
        return E[self.indices]

    def backward(self, dY):
        flat = self.indices.reshape(-1) % self.n          # negative indices count from the end
        dE = scatter_add_rows(flat, dY.reshape(-1, dY.shape[-1]), self.n)
        if self.padding_idx is not None:
            dE[self.padding_idx] = 0
        return dE
