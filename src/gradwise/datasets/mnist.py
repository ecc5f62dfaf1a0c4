"""MNIST and Fashion-MNIST from their gzip-compressed IDX files, parsed by hand.

IDX layout (all header integers big-endian uint32): images start with magic 2051
(``00 00 08 03``: unsigned bytes, 3 dimensions), then N, rows, cols, and the pixels (uint8,
row-major) from byte 16; labels start with magic 2049 (``00 00 08 01``), then N, and the
labels (uint8) from byte 8.

The loaders keep the switches of "Deep Learning from Scratch" (``dataset/mnist.py``)::

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True,
                                                      one_hot_label=False)

============== =========================================== =================================
switch          True                                        False
============== =========================================== =================================
normalize       float32 pixels in [0, 1] (x / 255)          uint8 pixels 0..255
flatten         images (N, 784)                             images (N, 1, 28, 28), NCHW
one_hot_label   labels (N, 10) float32, one 1 per row       labels (N,) int64
============== =========================================== =================================

The parsed uint8 arrays are cached per process (decompressing 60k images takes ~0.3 s);
every call returns fresh arrays, so changing them never touches the cache.
"""
from __future__ import annotations

import gzip
import struct
import threading

import numpy as np

from .. import functional as F
from ._store import fetch, missing

__all__ = ["load_mnist", "load_fashion_mnist", "read_idx", "MNIST_CLASSES",
           "FASHION_MNIST_CLASSES"]

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

_parsed: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
_lock = threading.Lock()


def read_idx(path, magic: int) -> np.ndarray:
    """Parse one gzip IDX file of unsigned bytes: (N, rows, cols) for 2051, (N,) for 2049.

    Checks the magic number and that the payload holds exactly the product of the header
    dimensions; the result is a read-only uint8 view of the decompressed bytes.
    """
    ndim = {IMAGE_MAGIC: 3, LABEL_MAGIC: 1}[magic]
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: IDX file too short ({len(raw)} bytes) for a {header}-byte header")
    (got,) = struct.unpack(">I", raw[:4])
    if got != magic:
        raise ValueError(f"{path}: IDX magic number {got}, expected {magic} "
                         f"({'images' if magic == IMAGE_MAGIC else 'labels'})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX header says {dims} = {expected} bytes of data, "
                         f"file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_split(dataset: str, split: str, data_dir, download: bool):
    img_name, lbl_name = _FILES[split]
    img_path = fetch(f"{dataset}/{img_name}", data_dir, download)
    lbl_path = fetch(f"{dataset}/{lbl_name}", data_dir, download)
    key = tuple((str(p.resolve()), p.stat().st_mtime_ns) for p in (img_path, lbl_path))
    cached = _parsed.get(key)
    if cached is not None:
        return cached
    images = read_idx(img_path, IMAGE_MAGIC)
    labels = read_idx(lbl_path, LABEL_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{dataset} {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{dataset} {split}: label {labels.max()} out of range 0..9")
    with _lock:
        _parsed[key] = (images, labels)
    return images, labels


def _convert(images, labels, normalize, flatten, one_hot_label):
    n = images.shape[0]
    if normalize:
        x = images.astype(np.float32)
        x /= np.float32(255.0)
    else:
        x = images.copy()
    x = x.reshape(n, -1) if flatten else x.reshape(n, 1, *images.shape[1:])
    if one_hot_label:
        t = F.one_hot(labels, 10, dtype=np.float32).data
    else:
        t = labels.astype(np.int64)
    return x, t


def _load(dataset, normalize, flatten, one_hot_label, data_dir, download):
    out = []
    for split in ("train", "test"):
        try:
            images, labels = _load_split(dataset, split, data_dir, download)
        except FileNotFoundError as e:
            # name every file the loader needs that is absent, not only the first one
            needed = [f"{dataset}/{name}" for names in _FILES.values() for name in names]
            absent = missing(needed, data_dir)
            raise FileNotFoundError(f"load_{dataset.replace('-', '_')}: {e}\n  files of "
                                    f"{dataset} not found anywhere: {', '.join(absent)}") from None
        out.append(_convert(images, labels, normalize, flatten, one_hot_label))
    return tuple(out)


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               data_dir=None, download: bool = True):
    """MNIST digits: ``((x_train, t_train), (x_test, t_test))``, 60000 + 10000 examples.

    normalize: float32 in [0, 1] (else uint8 0..255). flatten: (N, 784) (else (N, 1, 28, 28)).
    one_hot_label: (N, 10) float32 (else int64 (N,)). Files are looked up under
    ``<root>/mnist/`` (see :mod:`gradwise.datasets._store`), downloaded if absent.
    """
    return _load("mnist", normalize, flatten, one_hot_label, data_dir, download)


def load_fashion_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
                       data_dir=None, download: bool = True):
    """Fashion-MNIST (Zalando), same layout and switches as :func:`load_mnist`.

    Class names are :data:`FASHION_MNIST_CLASSES`; files live under ``<root>/fashion-mnist/``.
    """
    return _load("fashion-mnist", normalize, flatten, one_hot_label, data_dir, download)
