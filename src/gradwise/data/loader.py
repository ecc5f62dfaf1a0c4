"""DataLoader: mini-batches from a dataset, shuffled by gradwise's generator.

One epoch is the course's partition: shuffle the example indices, cut them into full
mini-batches and one smaller last batch (dropped with drop_last=True). For in-memory
datasets a batch is one fancy index per array, never a per-example Python loop.

With num_workers > 0, background threads prepare the next batches (indexing and the
transform, e.g. augmentation) while the model trains on the current one; NumPy releases the
GIL in its array work, so the two overlap. Each batch gets its own random generator, spawned
in order from the loader's, so the augmentation is the same whatever the thread timing.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import backend
from ..tensor import Tensor
from .dataset import Dataset, TensorDataset, collate


class DataLoader:
    """Iterate over (X, y) batches of Tensors.

    dataset: a Dataset, or a tuple (X, y) of arrays (wrapped in a TensorDataset).
    generator: an np.random.Generator or an int seed for the shuffling and the transform;
        None uses gradwise's global generator (gradwise.manual_seed).
    transform: a function applied to the batch of inputs (first array) as transform(X, rng).
    """

    def __init__(self, dataset, batch_size: int = 32, shuffle: bool = False,
                 drop_last: bool = False, generator=None, transform=None, num_workers: int = 0,
                 prefetch: int = 2):
        if isinstance(dataset, (tuple, list)):
            dataset = TensorDataset(*dataset)
        if not isinstance(dataset, Dataset) and not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: expected a Dataset or (X, y) arrays, got {type(dataset).__name__}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.transform, self.num_workers, self.prefetch = transform, num_workers, max(1, prefetch)
        if isinstance(generator, (int, np.integer)):
            generator = np.random.default_rng(int(generator))
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _rng(self) -> np.random.Generator:
        return self.generator if self.generator is not None else backend.rng()

    def batch_indices(self) -> list[np.ndarray]:
        """The epoch's partition of example indices into mini-batches."""
        n = len(self.dataset)
        order = self._rng().permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        return [order[i:i + self.batch_size] for i in range(0, stop, self.batch_size)]

    def _fetch(self, indices: np.ndarray):
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(indices) if getitems is not None else collate([self.dataset[int(i)] for i in indices])

    def _make_batch(self, indices, rng) -> tuple:
        arrays = list(self._fetch(indices))
        if self.transform is not None:
            arrays[0] = self.transform(arrays[0], rng)
        return tuple(Tensor(np.ascontiguousarray(a)) for a in arrays)

    def __iter__(self):
        batches = self.batch_indices()
        # one generator per batch, spawned in order: reproducible under any thread timing
        rngs = (self._rng().spawn(len(batches)) if self.transform is not None
                else [None] * len(batches))
        if self.num_workers == 0:
            for idx, rng in zip(batches, rngs):
                yield self._make_batch(idx, rng)
            return
        with ThreadPoolExecutor(self.num_workers, thread_name_prefix="gradwise-loader") as pool:
            window = deque()
            jobs = iter(zip(batches, rngs))
            for idx, rng in jobs:
                window.append(pool.submit(self._make_batch, idx, rng))
                if len(window) >= self.num_workers * self.prefetch:
                    break
            for idx, rng in jobs:
                done = window.popleft().result()
                window.append(pool.submit(self._make_batch, idx, rng))
                yield done
            while window:
                yield window.popleft().result()
