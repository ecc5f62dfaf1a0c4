"""Kernels: the loops under the convolution and pooling ops, on batch-last arrays.

The floor between the arrays and the ops. An op reads like the math (`col = im2col(X)`,
`Z = W @ col + b`, `dW = dZ @ col.T`) and calls these for the loops NumPy has no single
call for: im2col and its adjoint col2im, a direct convolution for layers with few filters,
max and average pooling forward and backward, ReLU and its backward, axpy (y += a x, an
optimizer's update) and Adam's update. They are written in plain NumPy (reference.py:
strided views, one pass per window pixel); all but im2col also compiled with numba
(compiled.py: fused loops, cached on disk), computing the same numbers in the same order.

The compiled ones are used when numba imports (it is a dependency; GRADWISE_KERNELS=numpy
or use("numpy") picks the NumPy ones, as the tests do to compare them). Arrays in and out
are batch-last, (C, H, W, m) (see layout.py); the functions here allocate outputs, check
contiguity and pass plain ints to the implementation.
"""
from __future__ import annotations

import os

import numpy as np

from . import blas, reference
from .blas import matmul
from .layout import (
    BATCH_LAST,
    batch_last,
    batch_last_matrix,
    dense_order,
    from_batch_last,
)

__all__ = [
    "BATCH_LAST",
    "adam",
    "avg_pool",
    "avg_pool_backward",
    "axpy",
    "batch_last",
    "batch_last_matrix",
    "col2im",
    "conv_direct",
    "conv_direct_pays",
    "conv_direct_weight_grad",
    "from_batch_last",
    "im2col",
    "in_use",
    "matmul",
    "max_pool",
    "max_pool_backward",
    "relu",
    "relu_backward",
    "use",
]

_impl = None      # the module in use: reference or compiled, chosen on first call


def use(name: str = "auto") -> str:
    """Pick the kernels: "numba" (compiled; an ImportError if numba is missing), "numpy"
    (reference) or "auto" (numba when it imports). Returns the name of those in use."""
    global _impl
    if name not in ("auto", "numba", "numpy"):
        raise ValueError(f"kernels.use: expected 'auto', 'numba' or 'numpy', got {name!r}")
    _impl = reference
    if name != "numpy":
        try:
            from . import compiled
        except ImportError:
            if name == "numba":
                raise
        else:
            _impl = compiled
    return in_use()


def in_use() -> str:
    """"numba" or "numpy": the kernels the next call runs."""
    return "numpy" if _kernels() is reference else "numba"


def _kernels():
    if _impl is None:
        use(os.environ.get("GRADWISE_KERNELS", "auto"))
    return _impl


_COMPILED_DTYPES = frozenset(map(np.dtype, (np.float32, np.float64, np.complex64, np.complex128)))
"""The inexact dtypes numba compiles for; integers and bool too (float16 and long double
it cannot type: those take the NumPy kernels, not a NotImplementedError from numba)."""


def _kernels_for(*arrays):
    """The kernels in use, or the NumPy ones where numba cannot compile an array's dtype."""
    impl = _kernels()
    if impl is not reference:
        for a in arrays:
            if a.dtype not in _COMPILED_DTYPES and a.dtype.kind not in "iub":
                return reference
    return impl


def _dense(X: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(X)


def _flat_alike(*arrays):
    """1-D views of the whole memory of arrays of one shape laid out alike (all C-ordered,
    all F-ordered, or all one permutation of a dense array), element t of each view being
    the same element of each array; None when they are not (a slice, two layouts). The
    elementwise kernels run on these views, in one pass whatever the layout."""
    first = arrays[0]
    for order in ("C", "F", "dense"):   # the two common layouts first: they are cheap to test
        if order == "dense":
            order = dense_order(first)
            if order is None:
                return None
        flat = []
        for a in arrays:
            v = a if order == "C" else a.T if order == "F" else a.transpose(order)
            if a.shape != first.shape or not v.flags.c_contiguous:
                break
            flat.append(v.ravel())
        else:
            return flat
    return None


def _flat_as(like: np.ndarray, *arrays):
    """_flat_alike(like, *arrays), where an array of like's shape laid out otherwise (a
    row-major gradient into a batch-last map, a broadcast one) is first copied into like's
    layout. None when like itself is not dense."""
    flat = _flat_alike(like, *arrays)
    if flat is not None or any(a.shape != like.shape for a in arrays) or _flat_alike(like) is None:
        return flat
    return _flat_alike(like, *(a if _flat_alike(like, a) else _copy_as(like, a) for a in arrays))


def _copy_as(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    out = np.empty_like(like, dtype=a.dtype)
    np.copyto(out, a)
    return out


def im2col(X, f, s, pad, d, out_hw, bias_row: bool = False) -> np.ndarray:
    """The columns col (C f_h f_w [+ 1], H_out W_out m) of batch-last X (C, H, W, m), with a
    last row of ones when bias_row (the bias rides in the GEMM, as x0 = 1 in the course)."""
    C, _, _, m = X.shape
    K = C * f[0] * f[1]
    col = np.empty((K + bias_row, out_hw[0] * out_hw[1] * m), X.dtype)
    reference.im2col(X, f, s, pad, d, out_hw, col)  # NumPy in both: see compiled.py
    if bias_row:
        col[K] = 1
    return col


def col2im(dcol, shape, f, s, pad, d, out_hw) -> np.ndarray:
    """dX (C, H, W, m) = the adjoint of im2col applied to dcol (its first C f_h f_w rows)."""
    return _kernels_for(dcol).col2im(dcol, shape, f, s, pad, d, out_hw)


DIRECT_MAX_FILTERS = 10
"""Layers with at most this many filters convolve directly (conv_direct), the rest by a
GEMM on im2col's columns. With few filters the GEMM has as few rows and runs far below
BLAS's speed, while the columns cost a pass over C f_h f_w times X's memory: LeNet-5's first
layer (6 filters 5 x 5 on 28 x 28, batch 100) takes 0.74 ms as im2col + GEMM and 0.29 ms
directly. With 10 filters the direct forward still took 0.46-0.75x the GEMM's time and a
training step of the layer 0.55-0.89x, over six layer shapes; with 12, a training step
took 0.78-1.13x, with 16 up to 1.26x (benchmarks/README.md)."""


def conv_direct_pays(W: np.ndarray, X: np.ndarray) -> bool:
    """Whether conv_direct beats im2col + GEMM for filters W on images X (see
    DIRECT_MAX_FILTERS); only for floats of one dtype, which it computes in."""
    return W.shape[0] <= DIRECT_MAX_FILTERS and X.dtype == W.dtype and X.dtype.kind == "f"


def conv_direct(X, W, b, s, pad, d, out_hw) -> np.ndarray:
    """Z (F, H_out, W_out, m): batch-last X (C, H, W, m) convolved with W (F, C, f_h, f_w),
    plus b (or None), without the columns: each number is b plus its window's products
    W[f, c, p, q] x, added in the order (c, p, q)."""
    Z = np.empty((W.shape[0], *out_hw, X.shape[3]), X.dtype)
    b = None if b is None else np.ascontiguousarray(b, Z.dtype)
    impl = _kernels_for(X)
    return impl.conv_direct(reference._padded(_dense(X), pad), np.ascontiguousarray(W), b, s, d, Z)


def conv_direct_weight_grad(X, dZ, W_shape, s, pad, d) -> np.ndarray:
    """dW of conv_direct for the gradient dZ (F, H_out, W_out, m) of its output: each filter
    weight's sum of dZ times the pixels it multiplied, without the columns."""
    dW = np.empty(W_shape, dZ.dtype)
    impl = _kernels_for(X, dZ)
    return impl.conv_direct_weight_grad(reference._padded(_dense(X), pad), _dense(dZ), s, d, dW)


def max_pool(X, f, s, pad, out_hw):
    """(Z, arg): the max of each window of batch-last X and the window pixel it came from,
    p f_w + q, kept in one byte per output where the window has at most 255 pixels."""
    arg_dtype = np.uint8 if f[0] * f[1] <= 255 else np.int32
    return _kernels_for(X).max_pool(_dense(X), f, s, pad, out_hw, arg_dtype)


def max_pool_backward(dZ, arg, shape, f, s, pad) -> np.ndarray:
    return _kernels_for(dZ).max_pool_backward(_dense(dZ), arg, shape, f, s, pad)


def avg_pool(X, f, s, pad, out_hw) -> np.ndarray:
    return _kernels_for(X).avg_pool(_dense(X), f, s, pad, out_hw)


def avg_pool_backward(dZ, shape, f, s, pad) -> np.ndarray:
    return _kernels_for(dZ).avg_pool_backward(_dense(dZ), shape, f, s, pad)


def relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = max(z, 0), written into out (z's shape and dtype) and returned; NaN stays NaN
    and -0.0 becomes 0, as in np.maximum(z, 0). One compiled pass when z and out are laid
    out alike (NumPy's maximum takes about four times as long: it checks each number for
    NaN in a separate step), else NumPy's."""
    impl = _kernels_for(z)
    flat = None if impl is reference or z.dtype != out.dtype or z.dtype.kind != "f" else _flat_alike(z, out)
    if flat is None:
        return reference.relu(z, out)
    impl.relu(*flat)
    return out


def relu_backward(dA: np.ndarray, A: np.ndarray) -> np.ndarray:
    """dZ = dA where A > 0, else 0, laid out as A (a batch-last map stays batch-last for
    the conv below). One compiled pass where A is dense, dA copied into A's layout first
    where it is not in it (a global average pool hands back a broadcast gradient, a
    concatenation slices of it: NumPy's masked copy across two layouts took 10 times as
    long, SmallResNet's last map at batch 32 479 us against 69); else NumPy's."""
    impl = _kernels_for(dA, A)
    if impl is not reference and dA.dtype == A.dtype and A.dtype.kind == "f":
        dZ = np.empty_like(A)  # laid out as A where A is dense
        flat = _flat_as(A, dA, dZ)
        if flat is not None:
            A_, dA_, dZ_ = flat
            impl.relu_backward(dA_, A_, dZ_)
            return dZ
    return reference.relu_backward(dA, A)


def axpy(a, x: np.ndarray, y: np.ndarray) -> None:
    """y += a x, in place; a is taken in y's dtype. One pass over memory where x and y are
    laid out alike, of one shape and dtype (an optimizer's W -= lr dW; NumPy writes a
    temporary as large as W and reads it back, a second pass): on the calling thread, each
    element y + (a x) rounded twice as NumPy rounds it, or for large arrays on BLAS's
    threads, fused into one FMA (blas.py). Across two layouts, NumPy's: copying x into y's
    layout first, as relu_backward does, was no faster (a column-major 64x64x3x3 dW for a
    row-major W: 122 us copied, 112 us NumPy's way), as both are one transposing pass."""
    a = y.dtype.type(a)
    impl = _kernels_for(x, y)
    flat = (None if impl is reference or x.dtype != y.dtype or y.dtype.kind != "f"
            or not y.flags.writeable else _flat_alike(x, y))
    if flat is None:
        return reference.axpy(a, x, y)
    if not blas.axpy(a, *flat):   # large arrays: on BLAS's threads (blas.py)
        impl.axpy(a, *flat)


def adam(w, g, v, s, beta1, beta2, step, s_scale, eps, s_max=None) -> None:
    """Adam's update of w, v and s in place (reference.adam has the formulas): one compiled
    pass where the four arrays are laid out alike, against NumPy's thirteen passes and seven
    temporaries, the same numbers bit for bit (float32, on the AMD EPYC: 1,000 numbers
    9.0 -> 2.6 us, 78,400 116 -> 25 us, a million 1.9 -> 0.29 ms). amsgrad (s_max), or
    arrays laid out otherwise, take NumPy's passes."""
    impl = _kernels_for(w, g)
    flat = (None if impl is reference or s_max is not None or w.dtype.kind != "f"
            or not w.dtype == g.dtype == v.dtype == s.dtype
            or not (w.flags.writeable and v.flags.writeable and s.flags.writeable)
            else _flat_alike(w, g, v, s))
    if flat is None:
        return reference.adam(w, g, v, s, beta1, beta2, step, s_scale, eps, s_max)
    impl.adam(*flat, beta1, beta2, step, s_scale, eps)
