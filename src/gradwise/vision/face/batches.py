"""Batches of P identities x K images, the batches that triplet mining needs."""
from __future__ import annotations

import numpy as np

from ... import backend
from ...data.transforms import takes_rng
from ...tensor import to_numpy
from .losses import _label_array


class PKBatches:
    """Batches of P identities with K images each (FaceNet; Hermans et al.): every anchor
    has K - 1 positives and (P - 1) K negatives in its batch, however many identities the
    data holds. Re-iterable: each pass draws new batches from gradwise's generator, so
    `fit(..., train_data=PKBatches(X, y, 8, 16))` sees fresh ones every epoch.

    An epoch has len(X) // (P K) batches. An identity with fewer than K images is drawn
    with replacement. transform: applied to each batch of images, fn(X, rng) or fn(X)
    (e.g. gradwise.data.transforms.RandomCrop(28, padding=2)), with gradwise's generator.
    """

    def __init__(self, X, y, P: int, K: int, transform=None):
        self.X = to_numpy(X)
        self.y = _label_array("PKBatches", y, len(self.X))
        self.classes, inverse = np.unique(self.y, return_inverse=True)
        for v, name in ((P, "P"), (K, "K")):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"PKBatches: {name} must be a positive integer, got {v!r}")
        if K < 2:
            raise ValueError(f"PKBatches: K must be >= 2 so that every anchor has a positive, got {K}")
        if P > len(self.classes):
            raise ValueError(f"PKBatches: P = {P} identities per batch, but the data has only "
                             f"{len(self.classes)}")
        self.P, self.K = int(P), int(K)
        self.members = [np.flatnonzero(inverse == c) for c in range(len(self.classes))]
        self.steps = max(1, len(self.X) // (self.P * self.K))
        if transform is not None and not callable(transform):
            raise TypeError(f"PKBatches: transform must be callable, got {transform!r}")
        self.transform = transform

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        rng = backend.rng()
        for _ in range(self.steps):
            ids = rng.choice(len(self.classes), size=self.P, replace=False)
            idx = np.concatenate([rng.choice(self.members[c], size=self.K,
                                             replace=len(self.members[c]) < self.K) for c in ids])
            X = self.X[idx]
            if self.transform is not None:
                X = self.transform(X, rng) if takes_rng(self.transform) else self.transform(X)
            yield X, self.y[idx]
