"""The fused affine map of a dense layer, in the course's notation.

Forward:  Z = X W^T + b       X (m, n_prev), W (n, n_prev) as in PyTorch, b (n,)
Backward: dX = dZ W,  dW = dZ^T X,  db = sum of dZ over the batch
One op instead of matmul + transpose + add saves two graph nodes and a transpose copy per
layer; dX is skipped when X needs no gradient (the input layer). The GEMMs run on NumPy's
BLAS and its threads, in training and inference alike (splitting the rows over gradwise's
own threads costs small batches more in hand-offs than it saves).
"""
from __future__ import annotations

from ..autograd import Function


class Linear(Function):
    fresh_grads = True  # dX, dW, db are new arrays: W.grad and b.grad take them uncopied

    def forward(self, X, W, b=None):
        self.X, self.W = X, W
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
