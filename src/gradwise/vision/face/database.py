"""Recognition (1:K): a database of identities, each known from one or more images.

Recognition returns the nearest identity of the database, or "not in the database" (None)
when even that one is farther than the threshold.
"""
from __future__ import annotations

import math

import numpy as np

from ...nn import Module
from ...tensor import to_numpy
from .networks import _embedding_net, embed


class FaceDatabase:
    """Identities with one or more reference images each, for 1:1 verification and 1:K
    recognition (the course's `verify` and `who_is_it`).

        db = FaceDatabase(net, threshold=0.5)
        db.add("younes", image)                 # one example is enough (one-shot)
        dist, ok = db.verify(query, "younes")   # 1:1: is this younes?
        name, dist = db.identify(query)         # 1:K: who is it? None: not in the database

    An identity's distance to a query is the smallest over its reference images.
    """

    def __init__(self, model: Module, threshold: float):
        if not (isinstance(threshold, (int, float, np.floating)) and math.isfinite(threshold)):
            raise ValueError(f"FaceDatabase: threshold must be a finite number, got {threshold!r}")
        self.model, self.threshold = model, float(threshold)
        self.names: list = []
        self._embeddings: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name) -> bool:
        return name in self.names

    def add(self, name, images) -> None:
        """Enroll `name` with images (C, H, W) or (k, C, H, W); adding again appends."""
        E = embed(self.model, self._batch("add", images))
        if name in self.names:
            i = self.names.index(name)
            self._embeddings[i] = np.concatenate([self._embeddings[i], E])
        else:
            self.names.append(name)
            self._embeddings.append(E)

    def distances(self, images) -> np.ndarray:
        """(q, K): d(query, identity) for each query image and each enrolled identity."""
        if not self.names:
            raise ValueError("FaceDatabase: the database is empty: add() identities first")
        Q = embed(self.model, self._batch("distances", images))
        return np.stack([((Q[:, None, :] - E[None]) ** 2).sum(-1).min(axis=1)
                         for E in self._embeddings], axis=1)

    def verify(self, image, name) -> tuple[float, bool]:
        """1:1: (d(image, name), whether d <= threshold)."""
        if name not in self.names:
            raise KeyError(f"FaceDatabase.verify: {name!r} is not in the database "
                           f"({len(self.names)} identities)")
        d = float(self.distances(image)[0, self.names.index(name)])
        return d, d <= self.threshold

    def identify(self, images):
        """1:K: the nearest identity and its distance, or (None, distance) when the nearest
        is farther than the threshold: "not in the database". For a batch (q, C, H, W):
        a list of such pairs."""
        single = np.ndim(to_numpy(images)) == 3
        D = self.distances(images)
        k = D.argmin(axis=1)
        d = D[np.arange(len(D)), k]
        out = [(self.names[j] if dj <= self.threshold else None, float(dj)) for j, dj in zip(k, d)]
        return out[0] if single else out

    def _batch(self, name: str, images) -> np.ndarray:
        X = to_numpy(images)
        if X.ndim == 3:
            X = X[None]
        shape = getattr(_embedding_net(self.model), "input_shape", None)
        if X.ndim != 4 or (shape is not None and tuple(X.shape[1:]) != tuple(shape)):
            want = f"(C, H, W) = {tuple(shape)}" if shape is not None else "(C, H, W)"
            raise ValueError(f"FaceDatabase.{name}: expected an image {want} or a batch of them, "
                             f"got {X.shape}")
        return X
