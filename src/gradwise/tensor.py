"""Tensor: an ndarray that remembers the Function that made it.

A Tensor is `data` (a NumPy array), `grad` (an array of the same shape, or None),
`requires_grad`, and `creator`: the Function whose output it is (None for leaves).
Following the creators backwards from a tensor walks the computational graph.

The arithmetic operators (+, -, *, /, **, @, comparisons, indexing) and the methods
(sum, mean, reshape, exp, astype, float, ...) are differentiable ops that live one floor up, in
`gradwise.ops`; that package attaches them to this class when it is imported, so this
floor stays free of any op.
"""
from __future__ import annotations

import numpy as np

from . import backend


def _settle_allocator(nbytes: int = 16 << 20) -> None:
    """Allocate and free one 16 MiB block, so that glibc's malloc adapts at import.

    A training step allocates arrays of a few hundred KiB (the batch, activations,
    gradients) and frees them all before the next step. glibc serves blocks above its mmap
    threshold (128 KiB at start) with fresh mmaps and hands free memory at the top of its
    heap back to the OS above a trim threshold; it raises both only once the program frees
    a large mmapped block. Until then every step may give its memory back and fault it in
    again, which costs a small network more time than its arithmetic. Freeing one
    16 MiB block, as any program that loads data (or imports torch) does sooner or later,
    raises the thresholds to 16 / 32 MiB. The block is never touched, so it costs no
    memory; other allocators than glibc's simply take it back.
    """
    np.empty(nbytes, dtype=np.uint8)


_settle_allocator()


def _check_can_require_grad(name: str, dtype: np.dtype) -> None:
    """Gradients are real numbers: integer and boolean tensors cannot require them (their
    gradients would be truncated to integers)."""
    if dtype.kind not in "fc":
        raise TypeError(f"{name}: only floating-point tensors can require gradients, "
                        f"got dtype {dtype}")


def to_numpy(x) -> np.ndarray:
    """The array behind a Tensor (no copy), or np.asarray of anything else: the one way the
    layers above read a value that may or may not be a Tensor."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _as_array(data, dtype=None) -> np.ndarray:
    """Turn user data into an ndarray with gradwise's dtype rules.

    Python floats (and lists of them) become the default dtype (float32); NumPy arrays
    keep their dtype unless one is asked for, as torch.tensor does.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, np.generic):
        return np.array(data)
    arr = np.array(data)
    if arr.dtype == np.float64:
        arr = arr.astype(backend.get_default_dtype())
    elif arr.dtype.kind not in "biufc":
        raise TypeError(f"tensor: cannot make a tensor from data of type {type(data).__name__}")
    return arr


class Tensor:
    """A multi-dimensional array with automatic differentiation.

    Shape conventions follow PyTorch: batch first, (N, D) for vectors, NCHW for images.
    """

    __slots__ = ("data", "grad", "_requires_grad", "creator", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # so that ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        arr = data if (type(data) is np.ndarray and dtype is None) else _as_array(data, dtype)
        if requires_grad:
            _check_can_require_grad("tensor", arr.dtype)
        self.data = arr
        self.grad = None
        self._requires_grad = bool(requires_grad)
        self.creator = None
        self._retains_grad = False

    # ---- attributes of the underlying array ------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def requires_grad(self) -> bool:
        """Whether backward() computes a gradient for this tensor.

        Settable on leaves; only floating-point tensors may require gradients. On a tensor an
        op made (a non-leaf) it can only stay True, as in PyTorch: use .detach() to cut one
        from the graph. (The engine sets the underlying slot directly.)"""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        requires_grad = bool(requires_grad)
        if requires_grad:
            _check_can_require_grad("requires_grad", self.data.dtype)
        elif self.creator is not None:
            raise RuntimeError(
                "requires_grad=False on a non-leaf tensor (the output of an op that recorded a "
                "graph): use .detach() to get a tensor cut from the graph"
            )
        self._requires_grad = requires_grad

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that recorded a graph)."""
        return self.creator is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    # ---- leaving the graph ------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python scalar, "
                f"got shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing the same data, cut from the graph (requires_grad=False)."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (only on leaves, as in PyTorch); returns self."""
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def zero_grad_(self) -> None:
        self.grad = None

    # ---- backpropagation ------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad that requires grad.

        `grad` is d(loss)/d(self); it may be omitted only when self is a scalar. The graph
        is freed afterwards unless retain_graph=True, as in PyTorch.
        """
        from .autograd import run_backward  # the engine lives beside Function

        run_backward(self, grad, retain_graph)

    # ---- display ----------------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extra = ""
        if self.data.dtype != backend.get_default_dtype() and self.data.dtype.kind == "f":
            extra += f", dtype={self.data.dtype}"
        if self.creator is not None:
            extra += f", grad_fn=<{type(self.creator).__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    __hash__ = object.__hash__  # tensors hash by identity, even though == is elementwise


_new_tensor = object.__new__


def _wrap(arr: np.ndarray) -> Tensor:
    """An op's output array as a Tensor, without Tensor()'s checks and conversions.

    For the engine only (Function.__call__ makes one per op, the hottest path there is):
    `arr` must be an ndarray; the fields are those of Tensor(arr).
    """
    t = _new_tensor(Tensor)
    t.data = arr
    t.grad = None
    t._requires_grad = False
    t.creator = None
    t._retains_grad = False
    return t


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Make a leaf tensor from a number, a (nested) list or an ndarray (copied)."""
    return Tensor(_as_array(data, dtype), requires_grad=requires_grad)


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """x as a Tensor without copying; Python scalars take the dtype of `like`."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float)) and like.data.dtype.kind == "f":
        return Tensor(np.asarray(x, dtype=like.data.dtype))
    if isinstance(x, np.ndarray):
        return Tensor(x)
    return Tensor(_as_array(x))


# ---- creation helpers (PyTorch names; shapes as *sizes or one tuple) ------------------
def _shape(sizes) -> tuple:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if any((not isinstance(s, (int, np.integer))) or s < 0 for s in sizes):
        raise ValueError(f"invalid shape {tuple(sizes)}: sizes must be non-negative integers")
    return tuple(int(s) for s in sizes)


def _dtype(dtype) -> np.dtype:
    return backend.get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*sizes, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(sizes), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*sizes, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(sizes), dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(_shape((size,)), fill_value, dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Like torch.arange: integers give int64, any float argument gives the default dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = backend.get_default_dtype() if is_float else np.int64
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def randn(*sizes, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws from the global generator (gradwise.manual_seed)."""
    data = backend.rng().standard_normal(_shape(sizes), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*sizes, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) draws from the global generator (gradwise.manual_seed)."""
    data = backend.rng().random(_shape(sizes)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=np.int64) -> Tensor:
    """Integers in [low, high) from the global generator."""
    if high is None:
        low, high = 0, low
    return Tensor(backend.rng().integers(low, high, size=_shape((size,)), dtype=dtype))
