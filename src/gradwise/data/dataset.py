"""Datasets: anything with __len__ and __getitem__, plus the in-memory TensorDataset.

TensorDataset keeps whole arrays, so a DataLoader can index a batch of them in one NumPy
operation (its fast path) instead of looping over examples in Python.
"""
from __future__ import annotations

import numpy as np

from ..tensor import to_numpy


class Dataset:
    """Base class: subclasses define __len__ and __getitem__(i) -> example (tuple)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Examples are the rows of arrays with a common first axis: TensorDataset(X, y)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.arrays = tuple(to_numpy(a) for a in arrays)
        n = len(self.arrays[0])
        for a in self.arrays:
            if a.ndim == 0 or len(a) != n:
                shapes = [x.shape for x in self.arrays]
                raise ValueError(f"TensorDataset: arrays must share their first axis, got shapes {shapes}")
        if n == 0:
            raise ValueError("TensorDataset: the arrays are empty (0 examples)")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __getitems__(self, indices: np.ndarray):
        """A whole batch at once: one fancy-indexing operation per array."""
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The examples of `dataset` at `indices` (what random_split returns)."""

    def __init__(self, dataset: Dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            bad = self.indices[(self.indices < -n) | (self.indices >= n)][0]
            raise IndexError(f"Subset: index {bad} out of range for a dataset of {n} examples")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        inner = self.indices[np.asarray(indices)]
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems(inner)
        return collate([self.dataset[int(i)] for i in inner])


def collate(examples: list) -> tuple:
    """Stack a list of example tuples into a tuple of batch arrays."""
    if not examples:
        raise ValueError("collate: empty batch")
    first = examples[0]
    if not isinstance(first, tuple):
        return (np.stack([to_numpy(e) for e in examples]),)
    return tuple(np.stack([to_numpy(e[k]) for e in examples]) for k in range(len(first)))
