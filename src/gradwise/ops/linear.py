"""The fused affine map of a dense layer, in the course's notation.

Forward:  Z = X W^T + b       X (m, n_prev), W (n, n_prev) as in PyTorch, b (n,)
Backward: dX = dZ W,  dW = dZ^T X,  db = sum of dZ over the batch
One op instead of matmul + transpose + add saves two graph nodes and a transpose copy per
layer; dX is skipped when X needs no gradient (the input layer).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, is_grad_enabled

_SPLIT_MACS = 1 << 18
"""Multiply-adds from which inference splits X W^T by rows over gradwise's threads."""


def _rows_in_parallel(X, W, b):
    """Z = X W^T + b, a share of the rows of X per thread (backend.parallel_for, BLAS on one
    thread meanwhile): the same numbers as one GEMM. Inference only: gradwise's threads then
    do every large GEMM of a forward pass, and BLAS's own threads stay asleep instead of
    spinning on the cores the convolution and pooling threads need."""
    Z = np.empty((X.shape[0], W.shape[0]), np.result_type(X, W))
    WT = W.T

    def rows(i, j):
        np.matmul(X[i:j], WT, out=Z[i:j])
        if b is not None:
            Z[i:j] += b

    backend.parallel_for(rows, len(X), min_chunk=_SPLIT_MACS // W.size + 1, blas=True)
    return Z


class Linear(Function):
    fresh_grads = True  # dX, dW, db are new arrays: W.grad and b.grad take them uncopied

    def forward(self, X, W, b=None):
        self.X, self.W = X, W
        if X.ndim == 2 and not is_grad_enabled() and X.size * W.shape[0] >= _SPLIT_MACS:
            return _rows_in_parallel(X, W, b)
        Z = X @ W.T
        if b is not None:
            Z += b
        return Z

    def backward(self, dZ):
        X, W = self.X, self.W
        dX = dZ @ W if self.needs_grad[0] else None
        if X.ndim == 2:
            dW = dZ.T @ X if self.needs_grad[1] else None
            db = dZ.sum(axis=0)
        else:  # (m, ..., n_prev): fold the leading axes into the batch
            dZ2 = dZ.reshape(-1, dZ.shape[-1])
            dW = dZ2.T @ X.reshape(-1, X.shape[-1]) if self.needs_grad[1] else None
            db = dZ2.sum(axis=0)
        return (dX, dW, db) if len(self.needs_grad) == 3 else (dX, dW)
