"""Synthetic datasets, seedable and exact.

==================== ======================================= ======================= ==========
generator            reproduces                              random source           X dtype
==================== ======================================= ======================= ==========
load_planar_dataset  the course's "flower" (course 1 week 3) RandomState(seed)       float64
make_moons           scikit-learn's make_moons, bit for bit  RandomState(seed)       float64
make_circles         scikit-learn's make_circles, bit for bit RandomState(seed)      float64
make_spirals         CS231n's spiral data                    RandomState(seed)       float64
make_blobs           (own) isotropic Gaussian clusters       Generator(seed)         float32
logic_gate           truth tables of AND/NAND/OR/XOR/NOR     none                    float32
==================== ======================================= ======================= ==========

The generators that reproduce a reference recipe use the legacy ``np.random.RandomState`` with
the reference's exact draw order and return float64, exactly as the reference computes it, so
``load_planar_dataset(1)`` equals the course's data after ``np.random.seed(1)`` and
``make_moons(n, noise=.2, random_state=0)`` equals scikit-learn's; cast with
``.astype(np.float32)`` to train. Labels are always int64 (N,), batch first. With no seed
(``None``) a seed is drawn from gradwise's one generator, so ``gradwise.manual_seed`` makes
those calls reproducible too; none of them touches NumPy's global random state.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend

__all__ = ["load_planar_dataset", "make_moons", "make_circles", "make_spirals", "make_blobs",
           "logic_gate", "LOGIC_GATES"]


def _random_state(seed) -> np.random.RandomState:
    if isinstance(seed, np.random.RandomState):
        return seed
    if seed is None:
        seed = int(backend.rng().integers(0, 2**32 - 1))
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be None, a RandomState or an integer in [0, 2**32), got {seed!r}")
    return np.random.RandomState(int(seed))


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return backend.rng()
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be None, a Generator or a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def load_planar_dataset(seed: int = 1):
    """The course's 2-class "flower": X (400, 2) float64, Y (400,) int64 (200 of each class).

    Draws exactly as the course (``np.random.seed(1)`` then, for each petal class j = 0, 1:
    t = linspace(3.12 j, 3.12 (j+1), 200) + 0.2 randn(200); r = 4 sin(4t) + 0.2 randn(200);
    x = (r sin t, r cos t)), but from its own ``RandomState(seed)``. The course returns the
    transpose, X (2, 400) and Y (1, 400) uint8: ``to_course_layout(X, Y)`` gives that.
    """
    rs = _random_state(seed)
    m, D, a = 400, 2, 4
    N = m // 2
    X = np.zeros((m, D))
    Y = np.zeros(m, dtype=np.int64)
    for j in range(2):
        ix = slice(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rs.randn(N) * 0.2   # theta
        r = a * np.sin(4 * t) + rs.randn(N) * 0.2                            # radius
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X, Y


def _split_two(n_samples, name):
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        if n_samples < 1:
            raise ValueError(f"{name}: n_samples must be >= 1, got {n_samples}")
        n_out = int(n_samples) // 2
        return n_out, int(n_samples) - n_out
    try:
        n_out, n_in = n_samples
    except (TypeError, ValueError):
        raise ValueError(f"{name}: n_samples must be an int or a two-element tuple, "
                         f"got {n_samples!r}") from None
    if n_out < 0 or n_in < 0:
        raise ValueError(f"{name}: sizes must be non-negative, got {n_samples!r}")
    return int(n_out), int(n_in)


def _finish(X, y, shuffle, noise, rs, name):
    if noise is not None and noise < 0:
        raise ValueError(f"{name}: noise must be >= 0 or None, got {noise}")
    if shuffle:  # scikit-learn's utils.shuffle: permute an index with the same RandomState
        idx = np.arange(X.shape[0])
        rs.shuffle(idx)
        X, y = X[idx], y[idx]
    if noise is not None:
        X += rs.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(n_samples=100, shuffle: bool = True, noise=None, random_state=None):
    """Two interleaving half circles: X (n, 2) float64, y (n,) int64.

    Identical to ``sklearn.datasets.make_moons`` for the same integer ``random_state``. An int
    n_samples puts n // 2 points in the outer moon (class 0) and the rest in the inner one; a
    tuple gives (outer, inner). ``noise`` is the std of Gaussian noise added after shuffling.
    """
    n_out, n_in = _split_two(n_samples, "make_moons")
    rs = _random_state(random_state)
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, shuffle, noise, rs, "make_moons")


def make_circles(n_samples=100, shuffle: bool = True, noise=None, random_state=None,
                 factor: float = 0.8):
    """A large circle (class 0) around a smaller one of radius ``factor`` (class 1).

    Identical to ``sklearn.datasets.make_circles`` for the same integer ``random_state``: X
    (n, 2) float64, y (n,) int64; an odd n gives the inner circle the extra point; a tuple is
    (outer, inner). Points are evenly spaced in angle (endpoint excluded) before shuffling and
    noise.
    """
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor}")
    n_out, n_in = _split_two(n_samples, "make_circles")
    rs = _random_state(random_state)
    lin_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    lin_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.append(np.cos(lin_out), np.cos(lin_in) * factor),
                   np.append(np.sin(lin_out), np.sin(lin_in) * factor)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, shuffle, noise, rs, "make_circles")


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed=0):
    """CS231n's spiral data: ``n_classes`` arms of ``n_per_class`` points, X float64, y int64.

    For class j: r = linspace(0, 1, N), t = linspace(4j, 4(j+1), N) + noise * randn(N),
    x = (r sin t, r cos t); with ``seed=s`` it equals the CS231n notes after ``np.random.seed(s)``
    (noise 0.2). Classes come in blocks (not shuffled).
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(f"make_spirals: need n_per_class >= 1 and n_classes >= 1, "
                         f"got {n_per_class}, {n_classes}")
    rs = _random_state(seed)
    N, K = int(n_per_class), int(n_classes)
    X = np.zeros((N * K, 2))
    y = np.zeros(N * K, dtype=np.int64)
    for j in range(K):
        ix = slice(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rs.randn(N) * noise
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def make_blobs(n_samples=100, centers=3, cluster_std=1.0, seed=None, n_features: int = 2,
               center_box=(-10.0, 10.0), shuffle: bool = True, dtype=np.float32):
    """Isotropic Gaussian clusters: X (n, n_features) ``dtype``, y (n,) int64 (the cluster).

    centers: an int (drawn uniformly in ``center_box``) or an array (k, n_features).
    n_samples: a total split as evenly as possible (the first clusters get the remainder) or a
    sequence of per-cluster counts. cluster_std: one std or one per cluster. ``seed``: an int,
    a ``np.random.Generator`` or None (gradwise's generator). Not bit-compatible with
    scikit-learn (use the same seed here for the same data).
    """
    rng = _generator(seed)
    if isinstance(centers, numbers.Integral):
        if centers < 1:
            raise ValueError(f"make_blobs: need at least one center, got {centers}")
        centers = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2:
            raise ValueError(f"make_blobs: centers must be an int or (k, d), got shape {centers.shape}")
        n_features = centers.shape[1]
    k = centers.shape[0]
    if isinstance(n_samples, numbers.Integral):
        counts = np.full(k, int(n_samples) // k)
        counts[: int(n_samples) % k] += 1
    else:
        counts = np.asarray(n_samples, dtype=np.int64)
        if counts.shape != (k,):
            raise ValueError(f"make_blobs: {len(counts)} per-cluster counts for {k} centers")
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    if np.any(std < 0):
        raise ValueError(f"make_blobs: cluster_std must be >= 0, got {cluster_std}")
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    X = centers[y] + rng.standard_normal((y.size, n_features)) * std[y, None]
    if shuffle:
        perm = rng.permutation(y.size)
        X, y = X[perm], y[perm]
    return X.astype(dtype, copy=False), y


LOGIC_GATES = {
    "AND": (0, 0, 0, 1),
    "NAND": (1, 1, 1, 0),
    "OR": (0, 1, 1, 1),
    "XOR": (0, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
}


def logic_gate(name: str):
    """The truth table of a 2-input gate: X (4, 2) float32 rows (0,0), (1,0), (0,1), (1,1)
    (the book's order) and t (4,) int64. ``name``: AND, NAND, OR, XOR or NOR (any case)."""
    key = str(name).upper()
    if key not in LOGIC_GATES:
        raise ValueError(f"logic_gate: unknown gate {name!r}; choose from {sorted(LOGIC_GATES)}")
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)
    return X, np.array(LOGIC_GATES[key], dtype=np.int64)
