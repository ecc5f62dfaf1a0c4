"""The data fit, evaluate and predict take, as mini-batches of Tensors in the model's dtype.

Data is either a tuple (X, y) of arrays/Tensors, which the loop cuts itself (one permutation
of the indices per epoch from gradwise's generator, whole batches by fancy indexing, the last
smaller batch kept: the course's mini-batch partition), or any re-iterable of (X, y) batches,
such as a DataLoader, which batches and shuffles itself. batch_size and shuffle apply to the
first kind only: given where they apply to nothing, they are refused, naming the option.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .. import backend
from ..tensor import Tensor, to_numpy

BATCH_SIZE = 32  # fit's batch size for (X, y) arrays when none is given


def cast(a: np.ndarray, dtype) -> np.ndarray:
    """Floating data in the model's dtype (float64 NumPy data into a float32 model); other
    data (integer labels) as it is."""
    if dtype is None or a.dtype.kind != "f" or a.dtype == dtype:
        return a
    return a.astype(dtype)


def as_tensor(a, dtype) -> Tensor:
    """A batch as a Tensor in the model's dtype (see cast); a Tensor already in it, as it is."""
    data = to_numpy(a)
    cast_data = cast(data, dtype)
    return a if isinstance(a, Tensor) and cast_data is data else Tensor(cast_data)


def param_dtype(model):
    """The dtype of the model's first floating parameter (None for a model without one)."""
    return next((p.dtype for p in model.parameters() if p.dtype.kind == "f"), None)


class ArrayBatches:
    """Mini-batches of in-memory arrays X, y: shuffle the indices, cut, index whole batches."""

    def __init__(self, X, y, batch_size: int, shuffle: bool, dtype, name: str):
        X, y = to_numpy(X), to_numpy(y)
        if len(X) != len(y):
            raise ValueError(f"{name}: X has {len(X)} examples but y has {len(y)}")
        if len(X) == 0:
            raise ValueError(f"{name}: the dataset is empty")
        X, y = cast(X, dtype), cast(y, dtype)  # float64 data into a float32 model: once, here
        self.X, self.y, self.batch_size, self.shuffle, self.name = X, y, batch_size, shuffle, name
        self.steps = -(-len(X) // batch_size)

    def check_labels(self, num_classes: int) -> None:
        """Integer class labels must lie in [0, C) for a model with C outputs; the whole y is
        checked, so a bad label fails before the first update, not at the batch that holds it."""
        y, C = self.y, num_classes
        if y.ndim != 1 or y.dtype.kind not in "iu":
            return
        bad = np.flatnonzero((y < 0) | (y >= C))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{self.name}: label {y[i]} is outside [0, {C}) (example {i}; "
                             f"{bad.size} such labels in all): the model outputs {C} classes. "
                             f"Nothing was trained")

    def __iter__(self):
        n, bs, X, y = len(self.X), self.batch_size, self.X, self.y
        if self.shuffle:
            order = backend.rng().permutation(n)
            for i in range(0, n, bs):
                idx = order[i:i + bs]
                yield Tensor(X[idx]), Tensor(y[idx])
        else:
            for i in range(0, n, bs):
                yield Tensor(X[i:i + bs]), Tensor(y[i:i + bs])


class IterableBatches:
    """Any re-iterable of (X, y) batches (a DataLoader, a list); arrays become Tensors, and
    floating batches take the model's dtype as (X, y) arrays do."""

    def __init__(self, data, name: str, dtype=None):
        if isinstance(data, Iterator):
            raise TypeError(f"{name}: a one-shot iterator cannot be replayed each epoch; pass a "
                            f"DataLoader, a list of batches or a tuple (X, y)")
        self.data, self.dtype = data, dtype
        self.steps = len(data) if hasattr(data, "__len__") else None

    def check_labels(self, num_classes: int) -> None:
        """Nothing to check ahead: the labels come batch by batch."""

    def __iter__(self):
        dtype = self.dtype
        for X, y in self.data:
            yield as_tensor(X, dtype), as_tensor(y, dtype)


def is_arrays(data) -> bool:
    """Whether data is a tuple (X, y) of arrays/Tensors (the kind the loop batches itself)."""
    return (isinstance(data, tuple) and len(data) == 2
            and all(isinstance(a, (np.ndarray, Tensor)) for a in data))


def batches(data, batch_size: int, shuffle: bool, dtype, name: str):
    """data as mini-batches: ArrayBatches for (X, y) arrays, IterableBatches otherwise."""
    if is_arrays(data):
        return ArrayBatches(*data, batch_size, shuffle, dtype, name)
    return IterableBatches(data, name, dtype)


def batch_size_for(batch_size, applies: bool, data, who: str) -> int:
    """batch_size as given, or 32 when not given (None). It cuts in-memory arrays only
    (applies: whether some of the data is such arrays); given where it applies to nothing (a
    DataLoader batches itself), it is a ValueError naming it, not silently ignored."""
    if batch_size is None:
        return BATCH_SIZE
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"{who}: batch_size must be a positive integer, got {batch_size!r}")
    if not applies:
        raise ValueError(f"{who}: batch_size={batch_size!r} cuts in-memory arrays, and the data "
                         f"(a {type(data).__name__}) batches itself: set it at the source, e.g. "
                         f"DataLoader(..., batch_size={batch_size!r}), and leave batch_size out")
    return int(batch_size)


def shuffle_for(shuffle, train_data, who: str) -> bool:
    """shuffle as given, or True when not given (None). It orders (X, y) arrays only; given
    with train_data that batches itself, it is a ValueError naming it."""
    if shuffle is None:
        return True
    if not is_arrays(train_data):
        raise ValueError(f"{who}: shuffle={shuffle!r} orders (X, y) arrays, and train_data (a "
                         f"{type(train_data).__name__}) batches itself: shuffle it at the "
                         f"source, e.g. DataLoader(..., shuffle=True), and leave shuffle out")
    return bool(shuffle)
