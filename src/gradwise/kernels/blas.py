"""NumPy's BLAS where gradwise calls it in a way of its own: products of matrices (matmul)
and y += a x (its axpy), for the large arrays of an optimizer's update.

matmul: a product whose inner dimension is 1 is an outer product, and NumPy's OpenBLAS
takes 3 to 15 times as long for that GEMM as a broadcast multiply does (the dW of
Linear(4320, 100) at batch 1: 568 against 38 us; Linear(1024, 1024): 1241 against 81 us),
a cliff at batch 1, for a layer of one input or one output, a convolution of one filter.
Each real number of the result is then one product, rounded once: the same numbers either
way (a complex product may round differently in its last bit, as BLAS may fuse its terms).

axpy: after a GEMM, BLAS's worker threads spin for a while, waiting for the next call. An
update on any other threads (numba's, gradwise's) then fights them for the cores, so it runs on
one (compiled.py); BLAS's own axpy hands its pieces to those awake workers. On 2 cores the
MLP 784-1024-1024-10's training step went from 8.07 to 7.60 ms this way (medians of 10
epochs each, interleaved), where the update is 1.9 million numbers. Under 2^18 numbers the
hand-off costs what it saves (the 784-100-100-10 MLP: 0.90 ms against 0.93), so smaller
arrays stay on the calling thread. BLAS's kernel fuses a x + y into one FMA: its numbers
differ from NumPy's `y += a * x` by rounding.

NumPy has no Python entry to its BLAS's axpy. `find()` locates the library NumPy loaded, as
threadpoolctl reports it, and the axpy of an ILP64 OpenBLAS by its symbol names (NumPy's
wheels: scipy_cblas_saxpy64_ since NumPy 2.0, cblas_saxpy64_ before). With another BLAS, or
without threadpoolctl, there is none and the caller uses its own kernel.
"""
from __future__ import annotations

import ctypes

import numpy as np

MIN_SIZE = 1 << 18
"""Arrays of fewer numbers are updated on the calling thread (see the module docstring)."""

_SYMBOLS = ("scipy_cblas_{}axpy64_", "cblas_{}axpy64_")   # ILP64: n and the strides are int64
_found = None   # {dtype: the C function}, once looked for


def find() -> dict:
    """{np.float32: saxpy, np.float64: daxpy} of NumPy's BLAS, or {} where it has none we
    know how to call."""
    global _found
    if _found is None:
        _found = _look_up()
    return _found


def _look_up() -> dict:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    for lib in threadpool_info():
        if lib.get("internal_api") != "openblas" or "numpy" not in lib.get("filepath", ""):
            continue
        try:
            dll = ctypes.CDLL(lib["filepath"])
        except OSError:
            continue
        for name in _SYMBOLS:
            fns = {}
            for dtype, letter, c_type in ((np.float32, "s", ctypes.c_float),
                                          (np.float64, "d", ctypes.c_double)):
                fn = getattr(dll, name.format(letter), None)
                if fn is None:
                    break
                fn.restype = None
                fn.argtypes = [ctypes.c_int64, c_type, ctypes.c_void_p, ctypes.c_int64,
                               ctypes.c_void_p, ctypes.c_int64]
                fns[np.dtype(dtype)] = fn
            if len(fns) == 2:
                return fns
    return {}


def axpy(a, x: np.ndarray, y: np.ndarray) -> bool:
    """y += a x on BLAS's threads when x and y are contiguous, 1-D, of one float dtype and at
    least MIN_SIZE long, and NumPy's BLAS has an axpy; False (nothing done) otherwise."""
    if y.size < MIN_SIZE:
        return False
    fn = find().get(y.dtype)
    if fn is None:
        return False
    fn(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    return True


def matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B, with NumPy's rules; an inner dimension of 1 (A (..., n, 1), B (..., 1, p)) is
    the outer product's broadcast multiply instead of a GEMM (see the module docstring)."""
    if A.ndim >= 2 and B.ndim >= 2 and A.shape[-1] == 1 and B.shape[-2] == 1:
        return np.multiply(A, B)
    return A @ B
