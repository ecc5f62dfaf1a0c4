"""The batch-last layout the convolution and pooling kernels work in.

An image batch is (m, C, H, W) to the user, as in PyTorch. The kernels keep it in memory as
(C, H, W, m): the batch is the innermost axis, so every pixel of a window is a contiguous
run of m numbers, long enough to vectorize even where a feature map row is only 10 pixels
wide (LeNet-5), and a convolution's output Z = W @ col, (F, H_out W_out m), is already that
layout. The tensors a layer returns are (m, C, H, W) *views* of batch-last memory; the next
elementwise op keeps the layout (NumPy's ufuncs follow their input's memory order) and the
next conv or pooling layer reads it without a copy.
"""
from __future__ import annotations

import numpy as np

BATCH_LAST = (1, 2, 3, 0)
"""The axes of an (m, C, H, W) array in batch-last memory order."""


def batch_last(X: np.ndarray) -> np.ndarray:
    """(m, C, H, W) -> a C-contiguous (C, H, W, m) array: a view when X's memory is already
    batch-last (the output of a conv, pool or elementwise op on one), else one copy."""
    return np.ascontiguousarray(X.transpose(BATCH_LAST))


def from_batch_last(A: np.ndarray) -> np.ndarray:
    """(C, H, W, m) -> the (m, C, H, W) view of the same memory."""
    return A.transpose(3, 0, 1, 2)


def batch_last_matrix(dZ: np.ndarray) -> np.ndarray:
    """A gradient (m, F, H, W) as the matrix (F, H W m) of the conv's GEMMs."""
    return batch_last(dZ).reshape(dZ.shape[1], -1)


def dense_order(a: np.ndarray):
    """The axes order in which `a` is C-contiguous (so a.transpose(order) is a plain view of
    its whole memory), or None when `a` has gaps (a slice) or is not a permuted array."""
    order = tuple(sorted(range(a.ndim), key=lambda k: -a.strides[k]))
    return order if a.transpose(order).flags.c_contiguous else None
