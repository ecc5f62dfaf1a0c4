"""The fused affine map of a dense layer, in the course's notation.

Forward:  Z = X W^T + b       X (m, n_prev), W (n, n_prev) as in PyTorch, b (n,)
Backward: dX = dZ W,  dW = dZ^T X,  db = sum of dZ over the batch
One op instead of matmul + transpose + add saves two graph nodes and a transpose copy per
layer; dX is skipped when X needs no gradient (the input layer). The GEMMs run on NumPy's
BLAS and its threads, in training and inference alike (splitting the rows over gradwise's
own threads costs small batches more in hand-offs than it saves).

nn.Linear keeps W in column-major memory, so W^T is a C-contiguous (n_prev, n) matrix and
X W^T a GEMM with no transposed operand, the one OpenBLAS runs fastest at these shapes; the
backward's dX = dZ W takes the transposed operand instead. dW comes out in W's memory order,
so that the optimizer's update is one pass over two arrays laid out alike.
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
        if X.ndim != 2:  # (n_prev,) or (m, ..., n_prev): fold the leading axes into the batch
            dZ, X = dZ.reshape(-1, dZ.shape[-1]), X.reshape(-1, X.shape[-1])
        dW = weight_grad(dZ, X, W) if self.needs_grad[1] else None
        db = dZ.sum(axis=0)
        return (dX, dW, db) if len(self.needs_grad) == 3 else (dX, dW)


def weight_grad(dZ, X, W):
    """dW = dZ^T X, in W's memory order: (X^T dZ)^T for a column-major W."""
    if W.flags.f_contiguous and not W.flags.c_contiguous:
        return (X.T @ dZ).T
    return dZ.T @ X
