"""DataLoader: mini-batches from a dataset, shuffled by gradwise's generator.

One epoch is the course's partition: shuffle the example indices, cut them into full
mini-batches and one smaller last batch (dropped with drop_last=True). For in-memory
datasets a batch is one fancy index per array, never a per-example Python loop.

With num_workers > 0, background threads prepare the next batches (indexing and the
transform, e.g. augmentation) while the model trains on the current one; NumPy releases the
GIL in its array work, so the two overlap. Each batch gets its own random generator, seeded
in order from the loader's, so the augmentation is the same whatever the thread timing.

A loader with its own generator keeps randomness that gradwise's generator does not hold:
state_dict() / load_state_dict() save and restore it (with the state of a transform or
dataset that has its own), and save_checkpoint(..., data=loader) stores it, so a resumed
run shuffles and augments as the uninterrupted one would have.
"""
from __future__ import annotations

import functools
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import backend
from ..tensor import Tensor
from .dataset import Dataset, TensorDataset, collate
from .transforms import takes_rng


class DataLoader:
    """Iterate over (X, y) batches of Tensors.

    dataset: a Dataset, or a tuple (X, y) of arrays (wrapped in a TensorDataset).
    batch_size: examples per mini-batch; the last batch of an epoch may be smaller
        (drop_last=True drops it, so every batch is full).
    shuffle: a fresh permutation every epoch (iterating again draws the next one).
    generator: an np.random.Generator or an int seed for the shuffling and the transform;
        None uses gradwise's global generator (gradwise.manual_seed).
    transform: applied to each batch of inputs (the first array), as transform(X, rng) with
        a NumPy Generator for its random choices (every gradwise augmentation takes one), or
        as transform(X) for a function of one argument. Unlike PyTorch, where a transform
        belongs to the dataset and sees one example, it sees the whole batch (vectorized).
    num_workers: background threads that prepare the next batches (index + transform) while
        the current one trains; 0 prepares each batch on demand in the calling thread.
    prefetch: batches prepared ahead per worker (PyTorch's prefetch_factor).

    Arrays come out as Tensors with the dataset's dtypes (fit and evaluate cast floating
    batches to the model's dtype, as they do (X, y) arrays).

    state_dict(): {'generator': the own generator's state (None with gradwise's generator,
    which a checkpoint stores anyway), 'transform': ..., 'dataset': ...}, the last two the
    state_dict() of a transform or dataset that has one (see random_state).
    """

    def __init__(self, dataset, batch_size: int = 32, shuffle: bool = False,
                 drop_last: bool = False, generator=None, transform=None, num_workers: int = 0,
                 prefetch: int = 2):
        if isinstance(dataset, (tuple, list)):
            dataset = TensorDataset(*dataset)
        if not isinstance(dataset, Dataset) and not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: expected a Dataset or (X, y) arrays, "
                            f"got {type(dataset).__name__}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an integer >= 0, got {num_workers!r}")
        if not isinstance(prefetch, (int, np.integer)) or prefetch < 1:
            raise ValueError(f"DataLoader: prefetch must be a positive integer, got {prefetch!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable, got {type(transform).__name__}")
        if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
            generator = np.random.default_rng(int(generator))
        elif generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be None, an int seed or an "
                            f"np.random.Generator, got {type(generator).__name__}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last, self.generator = bool(shuffle), bool(drop_last), generator
        self.transform, self.num_workers, self.prefetch = transform, int(num_workers), int(prefetch)
        self._transform_takes_rng = transform is not None and takes_rng(transform)

    def state_dict(self) -> dict:
        """The state of the loader's own randomness (see the class docstring)."""
        return {"generator": None if self.generator is None else self.generator.bit_generator.state,
                "transform": random_state(self.transform, "DataLoader: the transform"),
                "dataset": random_state(self.dataset, "DataLoader: the dataset")}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state_dict(): the next epoch shuffles and augments as it did then."""
        self._prepare_load(state)()

    def _prepare_load(self, state: dict):
        """Check a state_dict() without changing anything; return the function that loads it."""
        if not isinstance(state, dict) or set(state) != {"generator", "transform", "dataset"}:
            raise ValueError(f"DataLoader.load_state_dict: expected the dict of state_dict() "
                             f"('generator', 'transform', 'dataset'), got {state!r:.200}")
        saved = state["generator"]
        if (saved is None) != (self.generator is None):
            mine = "draws from gradwise's generator" if self.generator is None else "has its own"
            raise ValueError(f"DataLoader.load_state_dict: the saved loader "
                             f"{'drew from gradwise' if saved is None else 'had its own'} "
                             f"generator, this one {mine}: build it with the same generator= "
                             f"argument kind")
        loads = [prepare_random_state(obj, state[part], f"DataLoader: the {part}")
                 for part, obj in (("transform", self.transform), ("dataset", self.dataset))]
        if saved is not None:
            scratch = np.random.Generator(type(self.generator.bit_generator)())
            try:
                scratch.bit_generator.state = saved
            except (ValueError, TypeError, KeyError) as e:
                raise ValueError(f"DataLoader.load_state_dict: the generator state is damaged or "
                                 f"of another kind: {e}") from e
            loads.append(lambda: setattr(self.generator.bit_generator, "state", saved))

        def load() -> None:
            for f in loads:  # an unchecked part (a foreign transform's load) comes first
                f()
        load.unchecked = any(getattr(f, "unchecked", False) for f in loads)
        return load

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

    def _batch_generators(self, n: int) -> list:
        """One generator per batch, seeded in order by draws from the loader's generator.

        The augmentation then does not depend on which thread runs which batch, and since
        the seeds are draws (not SeedSequence.spawn), the loader's generator state alone,
        e.g. restored from a checkpoint, fixes the next epoch's augmentation.
        """
        if self.transform is None or not self._transform_takes_rng:
            return [None] * n
        seeds = self._rng().integers(0, 2**63 - 1, size=n)
        return [np.random.default_rng(int(s)) for s in seeds]

    def _fetch(self, indices: np.ndarray):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:                  # in memory: one fancy index per array
            return getitems(indices)
        return collate([self.dataset[int(i)] for i in indices])

    def _make_batch(self, indices, rng) -> tuple:
        arrays = list(self._fetch(indices))
        if self._transform_takes_rng:
            arrays[0] = self.transform(arrays[0], rng)
        elif self.transform is not None:
            arrays[0] = self.transform(arrays[0])
        return tuple(Tensor(np.ascontiguousarray(a)) for a in arrays)

    def __iter__(self):
        batches = self.batch_indices()
        rngs = self._batch_generators(len(batches))
        if self.num_workers == 0:
            for idx, rng in zip(batches, rngs):
                yield self._make_batch(idx, rng)
            return
        # keep num_workers * prefetch batches in flight; hand them out in order
        pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="gradwise-loader")
        try:
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
        finally:
            # a loop left early (break, an exception) must not wait for batches nobody wants
            pool.shutdown(wait=True, cancel_futures=True)


# ---- objects with their own randomness ----------------------------------------------------------
_GENERATORS = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)
_SCAN_ITEMS = 64  # items of a list looked at: a generator is kept near the top, not in the data


def _parts(obj) -> list:
    """(name, value) of what obj holds: attributes, list/tuple items, a bound method's object,
    a closure's cells, a functools.partial's function and arguments."""
    if isinstance(obj, (list, tuple)):
        return [(f"[{i}]", v) for i, v in enumerate(obj[:_SCAN_ITEMS])]
    if isinstance(obj, dict):
        return [(f"[{k!r}]", v) for k, v in list(obj.items())[:_SCAN_ITEMS]]
    if isinstance(obj, functools.partial):
        return [(".func", obj.func), (".args", obj.args), (".keywords", list(obj.keywords.values()))]
    parts = [(f".{k}", v) for k, v in getattr(obj, "__dict__", {}).items()]
    if hasattr(obj, "__self__"):
        parts.append((".__self__", obj.__self__))
    for i, cell in enumerate(getattr(obj, "__closure__", None) or ()):
        try:
            parts.append((f".<closure cell {i}>", cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    return parts


def _own_generator(obj, depth: int = 3) -> str | None:
    """Where obj keeps a NumPy generator of its own ('.rng', '.transforms[1].rng', ...),
    looking `depth` levels deep; None if it keeps none."""
    if isinstance(obj, _GENERATORS):
        return ""
    if depth == 0 or obj is None or isinstance(obj, (np.ndarray, Tensor, str, bytes, int, float)):
        return None
    for where, v in _parts(obj):
        found = _own_generator(v, depth - 1)
        if found is not None:
            return where + found
    return None


def _has_state(obj) -> bool:
    return callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None))


def random_state(obj, what: str):
    """The state of an object's own randomness, for a checkpoint: obj.state_dict() when it has
    state_dict() and load_state_dict(); None when it keeps no generator of its own (it draws
    from gradwise's generator or from the one it is handed, as every gradwise transform does).
    An object that keeps its own generator but cannot save it is an error naming it: a run
    resumed from a checkpoint could not repeat its draws."""
    if obj is None:
        return None
    if _has_state(obj):
        return obj.state_dict()
    where = _own_generator(obj)
    if where is not None:
        name = type(obj).__name__
        raise ValueError(
            f"{what} ({name}) keeps its own random generator (at '{name}{where}') and has no "
            f"state_dict()/load_state_dict() to save it, so a checkpoint cannot resume its draws "
            f"exactly: give it those two methods, or let it draw from the generator it is handed "
            f"(transform(X, rng)) or from gradwise's")
    return None


def prepare_random_state(obj, state, what: str):
    """Check that `state` (taken by random_state) fits obj, changing nothing; return the
    function that restores it."""
    if state is None:
        if _has_state(obj):
            raise ValueError(f"{what} ({type(obj).__name__}) has a state_dict(), but none was saved")
        random_state(obj, what)  # an error if obj keeps a generator that nothing restores
        return lambda: None
    if not _has_state(obj):
        raise ValueError(f"{what}: a state was saved for it, but "
                         f"{'there is none now' if obj is None else type(obj).__name__} "
                         f"{'' if obj is None else 'has no state_dict()/load_state_dict()'}".rstrip())
    return prepared_load(obj, state)


def prepared_load(obj, state):
    """The load of `state` into obj as a function, checked now where obj can check without
    changing anything (gradwise's classes: _prepare_load). Another object's load_state_dict
    is only called then, and its function is marked `unchecked` (load_checkpoint calls those
    first, so that a refusal comes before anything checked has changed)."""
    prepare = getattr(obj, "_prepare_load", None)
    if prepare is not None:
        return prepare(state)

    def load():
        obj.load_state_dict(state)
    load.unchecked = True
    return load


def random_mini_batches(X, Y, mini_batch_size: int = 64, seed: int = 0) -> list[tuple]:
    """The course's mini-batches in its column layout: X (n_x, m), Y (n_y, m) -> a list of
    (X_batch, Y_batch), exactly as course 2's ``random_mini_batches`` makes them.

    The course shuffles the columns with ``np.random.seed(seed); np.random.permutation(m)``,
    then cuts floor(m / mini_batch_size) full batches and one last batch of the remaining
    m % mini_batch_size columns (if any). This draws the same permutation from its own
    ``RandomState(seed)``, leaving NumPy's global state alone. For batch-first training use
    :class:`DataLoader`, which partitions the same way.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"random_mini_batches: expected X (n_x, m) and Y (n_y, m) with the same "
                         f"m (one example per column), got X {X.shape} and Y {Y.shape}")
    if not isinstance(mini_batch_size, (int, np.integer)) or mini_batch_size <= 0:
        raise ValueError(f"random_mini_batches: mini_batch_size must be a positive integer, "
                         f"got {mini_batch_size!r}")
    m = X.shape[1]
    permutation = _course_permutation(seed, m)
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation]
    return [(shuffled_X[:, k:k + mini_batch_size], shuffled_Y[:, k:k + mini_batch_size])
            for k in range(0, m, mini_batch_size)]


_course_rng = threading.local()   # each thread's RandomState for _course_permutation


def _course_permutation(seed, m: int) -> np.ndarray:
    """np.random.seed(seed); np.random.permutation(m), from this thread's own RandomState,
    reseeded: the same draws as a new RandomState(seed), for 2 us instead of the 175 that
    building one takes (the course's optimization experiment calls this 30,000 times)."""
    rs = getattr(_course_rng, "rs", None)
    if rs is None:
        rs = _course_rng.rs = np.random.RandomState(0)
    rs.seed(seed)
    return rs.permutation(m)
