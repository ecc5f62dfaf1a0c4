"""The deeplearning.ai course datasets: cat vs non-cat, SIGNS, Happy House and "football".

All files live under ``<root>/course/`` (see :mod:`gradwise.datasets._store`); they have no
reliable public mirror, so they are never downloaded.

Image sets (HDF5, read with h5py) come back batch first, as stored::

    (x_train, y_train), (x_test, y_test), classes = load_catvnoncat()
    # x: (N, 64, 64, 3) uint8 NHWC (channels_first=True: (N, 3, 64, 64)); y: (N,) int64

``split='train'`` or ``split='test'`` loads one half and returns ``((x, y), classes)``; the
default ``'both'`` needs both files. Only the test halves of SIGNS and Happy House are public
enough to have at hand; ``load_signs(split='test')`` works without ``train_signs.h5``.

The course itself works in the transposed "course layout": X (n_x, m) with one example per
column (images flattened as ``x.reshape(m, -1).T``) and Y (1, m). :func:`to_course_layout`
and :func:`from_course_layout` convert between the two.
"""
from __future__ import annotations

import numpy as np

from ._store import fetch

__all__ = ["load_catvnoncat", "load_signs", "load_happy", "load_football", "to_course_layout",
           "from_course_layout", "SIGNS_CLASSES", "HAPPY_CLASSES"]

SIGNS_CLASSES = ("0", "1", "2", "3", "4", "5")      # the digit shown by the hand
HAPPY_CLASSES = ("not happy", "happy")

_SPLITS = ("train", "test", "both")


def _read_h5(path, split: str):
    import h5py  # lazily: only the course loaders need it

    with h5py.File(path, "r") as f:
        keys = (f"{split}_set_x", f"{split}_set_y", "list_classes")
        missing = [k for k in keys if k not in f]
        if missing:
            raise KeyError(f"{path}: missing HDF5 keys {missing}; found {sorted(f.keys())}")
        x = np.asarray(f[keys[0]][()])
        y = np.asarray(f[keys[1]][()])
        stored = np.asarray(f[keys[2]][()])
    y = y.reshape(-1).astype(np.int64)
    if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
        raise ValueError(f"{path}: {keys[0]} is {x.dtype} {x.shape}, expected uint8 (N, H, W, 3)")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{path}: {x.shape[0]} images but {y.shape[0]} labels")
    return x, y, stored


def _class_names(stored: np.ndarray, names) -> list[str]:
    if stored.dtype.kind == "S":
        return [s.decode("utf-8") for s in stored.tolist()]
    if names is not None and stored.dtype.kind in "iu" and stored.tolist() == list(range(len(names))):
        return list(names)
    return [str(v) for v in stored.tolist()]


def _load_images(stem: str, split: str, data_dir, channels_first: bool, names=None):
    if split not in _SPLITS:
        raise ValueError(f"load_{stem}: split must be one of {_SPLITS}, got {split!r}")
    halves = ("train", "test") if split == "both" else (split,)
    out, classes = [], None
    for half in halves:
        rel = f"course/{half}_{stem}.h5"
        try:
            path = fetch(rel, data_dir, download=False)
        except FileNotFoundError as e:
            hint = ""
            if split == "both":
                other = "test" if half == "train" else "train"
                hint = (f"\n  hint: split='{other}' loads the other half alone, without "
                        f"{half}_{stem}.h5.")
            raise FileNotFoundError(f"load_{stem}(split={split!r}): {e}{hint}") from None
        x, y, stored = _read_h5(path, half)
        if channels_first:
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        these = _class_names(stored, names)
        if classes is not None and these != classes:
            raise ValueError(f"load_{stem}: train and test files disagree on classes: "
                             f"{classes} vs {these}")
        classes = these
        out.append((x, y))
    return (*out, classes)


def load_catvnoncat(data_dir=None, split: str = "both", channels_first: bool = False):
    """Cat vs non-cat (course 1): 209 train + 50 test RGB 64x64 images, classes ['non-cat', 'cat'].

    Returns ``((x_train, y_train), (x_test, y_test), classes)`` for split='both', else
    ``((x, y), classes)``; x is (N, 64, 64, 3) uint8 (``channels_first``: (N, 3, 64, 64)),
    y is (N,) int64 with 1 = cat.
    """
    return _load_images("catvnoncat", split, data_dir, channels_first)


def load_signs(data_dir=None, split: str = "both", channels_first: bool = False):
    """SIGNS (course 2 week 3, course 4): hands showing 0..5; 1080 train + 120 test images.

    Same layout as :func:`load_catvnoncat`; classes are :data:`SIGNS_CLASSES` ('0'..'5'),
    the file stores them as the integers 0..5. ``train_signs.h5`` is often unavailable:
    ``split='test'`` loads the test half alone.
    """
    return _load_images("signs", split, data_dir, channels_first, SIGNS_CLASSES)


def load_happy(data_dir=None, split: str = "both", channels_first: bool = False):
    """Happy House (course 4 Keras tutorial): faces, 600 train + 150 test, 1 = happy.

    Same layout as :func:`load_catvnoncat`; classes are :data:`HAPPY_CLASSES`
    ('not happy', 'happy'), stored in the file as the integers 0 and 1.
    """
    return _load_images("happy", split, data_dir, channels_first, HAPPY_CLASSES)


def load_football(data_dir=None, dtype=np.float32):
    """The 2-D "French football" data of course 2 (Regularization), from ``course/data.mat``.

    Returns ``((X, y), (Xval, yval))`` batch first: X (211, 2), Xval (200, 2) cast to ``dtype``
    (float32 by default, the framework's dtype; pass ``dtype=np.float64`` for the values exactly
    as stored), y (211,) and yval (200,) int64 in {0, 1}. The course transposes these to
    (2, m) and (1, m): see :func:`to_course_layout`.
    """
    from scipy.io import loadmat  # lazily: MATLAB v5 files need scipy

    path = fetch("course/data.mat", data_dir, download=False)
    mat = loadmat(path)
    missing = [k for k in ("X", "y", "Xval", "yval") if k not in mat]
    if missing:
        raise KeyError(f"{path}: missing variables {missing}")
    out = []
    for xk, yk in (("X", "y"), ("Xval", "yval")):
        X = np.asarray(mat[xk], dtype=dtype)
        y = np.asarray(mat[yk]).reshape(-1).astype(np.int64)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"{path}: {xk} {X.shape} and {yk} {y.shape} do not pair up")
        out.append((X, y))
    return tuple(out)


def to_course_layout(X, y=None):
    """Batch-first arrays to the course's column layout: X (m, ...) -> (n_x, m), y (m,) -> (1, m).

    Images are flattened exactly as the course does, ``X.reshape(m, -1).T``, so a (209, 64, 64, 3)
    set becomes (12288, 209). Returns contiguous copies ``(X_course, Y_course)`` (Y is None when
    y is None); dtypes are kept (divide by 255 yourself, as the course does).
    """
    X = np.asarray(X)
    m = X.shape[0]
    Xc = np.ascontiguousarray(X.reshape(m, -1).T)
    if y is None:
        return Xc, None
    y = np.asarray(y)
    if y.shape[0] != m:
        raise ValueError(f"to_course_layout: X has {m} examples, y has {y.shape[0]}")
    return Xc, np.ascontiguousarray(y.reshape(m, -1).T)


def from_course_layout(X, Y=None, shape=None):
    """The inverse of :func:`to_course_layout`: X (n_x, m) -> (m, n_x) or (m, *shape), Y (1, m) -> (m,).

    ``shape`` is the per-example shape to restore, e.g. ``(64, 64, 3)``; a Y with several rows
    (one-hot columns, (C, m)) comes back as (m, C).
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"from_course_layout: X must be (n_x, m), got shape {X.shape}")
    m = X.shape[1]
    Xb = np.ascontiguousarray(X.T)
    if shape is not None:
        Xb = Xb.reshape((m, *shape))
    if Y is None:
        return Xb, None
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.shape[-1] != m:
        raise ValueError(f"from_course_layout: X has {m} examples (columns), Y has shape {Y.shape}")
    Yb = np.ascontiguousarray(Y.T)
    return Xb, (Yb.reshape(m) if Yb.shape[1] == 1 else Yb)
