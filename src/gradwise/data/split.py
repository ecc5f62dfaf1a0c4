"""Splitting data into train / dev / test sets.

The course's rule of thumb: 60/20/20 for small data (thousands of examples), 98/1/1 for big
data (a million): dev and test need only be large enough to tell models apart.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .dataset import Dataset, Subset, _array


def _fractions_to_lengths(fractions, n: int) -> list[int]:
    lengths = [int(np.floor(f * n)) for f in fractions]
    for i in range(n - sum(lengths)):  # hand out the remainder round-robin, as PyTorch
        lengths[i % len(lengths)] += 1
    return lengths


def random_split(dataset: Dataset, lengths, generator=None) -> list[Subset]:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        lengths = _fractions_to_lengths(lengths, n)
    if sum(lengths) != n or any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths {lengths} must be non-negative and sum to {n}")
    rng = generator if generator is not None else backend.rng()
    order = rng.permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out


def train_dev_test_split(X, y, ratios=(0.6, 0.2, 0.2), stratify: bool = False, seed=None):
    """((X_train, y_train), (X_dev, y_dev), (X_test, y_test)) after one shuffle.

    stratify=True keeps each class's proportion in every split (split class by class).
    """
    X, y = _array(X), _array(y)
    if len(X) != len(y):
        raise ValueError(f"train_dev_test_split: X has {len(X)} examples but y has {len(y)}")
    ratios = np.asarray(ratios, dtype=float)
    if len(ratios) != 3 or (ratios < 0).any() or abs(ratios.sum() - 1) > 1e-6:
        raise ValueError(f"train_dev_test_split: ratios must be 3 non-negative numbers summing to 1, got {tuple(ratios.tolist())}")
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    if stratify:
        labels = y.reshape(len(y), -1).argmax(1) if y.ndim > 1 and y.shape[1] > 1 else y.reshape(-1)
        parts = [[], [], []]
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            cuts = np.cumsum(_fractions_to_lengths(ratios, len(idx)))[:2]
            for p, chunk in zip(parts, np.split(idx, cuts)):
                p.append(chunk)
        splits = [rng.permutation(np.concatenate(p)) for p in parts]
    else:
        order = rng.permutation(len(X))
        splits = np.split(order, np.cumsum(_fractions_to_lengths(ratios, len(X)))[:2])
    return tuple((X[s], y[s]) for s in splits)
