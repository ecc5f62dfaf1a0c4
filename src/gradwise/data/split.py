"""Splitting data into train / dev / test sets.

The course's rule of thumb: 60/20/20 for small data (thousands of examples), 98/1/1 for big
data (a million): dev and test need only be large enough to tell models apart.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import to_numpy
from .dataset import Dataset, Subset, TensorDataset


def _generator(seed, name: str, arg: str) -> np.random.Generator:
    if seed is None:
        return backend.rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(f"{name}: {arg} must be None, a non-negative int seed or an "
                    f"np.random.Generator, got {seed!r}")


def _fractions_to_lengths(fractions, n: int) -> list[int]:
    # floor, with a little slack for products such as 0.29 * 100 = 28.999999999999996
    lengths = [int(np.floor(f * n + 1e-9)) for f in fractions]
    for i in range(n - sum(lengths)):  # hand out the remainder round-robin, as PyTorch
        lengths[i % len(lengths)] += 1
    return lengths


def random_split(dataset: Dataset, lengths, generator=None) -> list[Subset]:
    """Split into non-overlapping Subsets of the given lengths, or of fractions summing to 1
    (floor(f * n) each, the remainder handed out one by one from the first, as PyTorch does).

    dataset: a Dataset or a tuple (X, y) of arrays. generator: None (gradwise's generator),
    an int seed or an np.random.Generator.
    """
    if isinstance(dataset, (tuple, list)):
        dataset = TensorDataset(*dataset)
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths):
        if abs(sum(lengths) - 1) > 1e-6 or any(x < 0 for x in lengths):
            raise ValueError(f"random_split: fractions {lengths} must be non-negative and sum to 1")
        lengths = _fractions_to_lengths(lengths, n)
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative integers that sum "
                         f"to {n} (the dataset's length), or fractions that sum to 1")
    order = _generator(generator, "random_split", "generator").permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out


def train_dev_test_split(X, y, ratios=(0.6, 0.2, 0.2), stratify: bool = False, seed=None):
    """((X_train, y_train), (X_dev, y_dev), (X_test, y_test)) after one shuffle.

    ratios: three fractions summing to 1, e.g. (0.6, 0.2, 0.2) for thousands of examples or
    (0.98, 0.01, 0.01) for a million. stratify=True keeps each class's proportion in every
    split (the split is made class by class; labels may be integers or one-hot rows), like
    scikit-learn's train_test_split(stratify=y); each class is cut by the same rounding as
    an unstratified split (floor, remainder to train first), so with small classes a split may
    hold a few examples more or fewer than ratio * n. seed: None (gradwise's generator), an int
    or an np.random.Generator. Each split comes out in shuffled order.
    """
    X, y = to_numpy(X), to_numpy(y)
    if len(X) != len(y):
        raise ValueError(f"train_dev_test_split: X has {len(X)} examples but y has {len(y)}")
    ratios = np.asarray(ratios, dtype=float)
    if len(ratios) != 3 or (ratios < 0).any() or abs(ratios.sum() - 1) > 1e-6:
        raise ValueError(f"train_dev_test_split: ratios must be 3 non-negative numbers summing to 1, "
                         f"got {tuple(ratios.tolist())}")
    if len(X) == 0:
        raise ValueError("train_dev_test_split: no examples to split")
    rng = _generator(seed, "train_dev_test_split", "seed")
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
