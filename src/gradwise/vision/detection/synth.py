"""A detection dataset made from MNIST: digits pasted on a blank canvas, boxes known.

    train = make_mnist_detection(4000, seed=0)                   # digits from MNIST's train set
    test = make_mnist_detection(1000, split="test", seed=1)      # unseen digits: a held-out set
    train.images        # (4000, 1, 64, 64) float32 in [0, 1]
    train.boxes[0]      # (k, 4) float32 corner-form boxes (x1, y1, x2, y2) in pixels
    train.labels[0]     # (k,) int64 digits

Each canvas holds between `digits[0]` and `digits[1]` digits. A digit is an MNIST image resized
(bilinear) to s x s pixels with s drawn uniformly from `digit_size`, pasted at a random place
where its box overlaps every box already there by an IoU of at most `max_iou`; overlapping
ink is combined by its maximum. The box is the tight box around the digit's ink (pixels of
at least `ink` in [0, 1]), not the s x s square: a "1" gets a tall, narrow box. When no free
place is found in 100 draws the canvas keeps fewer digits. Everything is drawn from one
generator: the same seed gives the same canvases.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...datasets import MNIST_CLASSES, load_mnist
from ...datasets.generators import _generator
from .anchors import yolo_targets
from .boxes import _overlaps

__all__ = ["DetectionSet", "make_mnist_detection", "paste_digits", "resize_digits", "resize_matrix"]


@dataclass
class DetectionSet:
    """Images (n, C, H, W) float32 and, per image, boxes (k, 4) in pixels (corner form) and
    labels (k,). Indexing gives (image, boxes, labels); len() is the number of images."""

    images: np.ndarray
    boxes: list
    labels: list
    classes: tuple = MNIST_CLASSES

    def __post_init__(self):
        if self.images.ndim != 4:
            raise ValueError(f"DetectionSet: images must be (n, C, H, W), got {self.images.shape}")
        if not len(self.images) == len(self.boxes) == len(self.labels):
            raise ValueError(f"DetectionSet: {len(self.images)} images, {len(self.boxes)} box lists "
                             f"and {len(self.labels)} label lists must match")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], self.boxes[i], self.labels[i]

    @property
    def image_size(self) -> tuple:
        return self.images.shape[2:]

    @property
    def num_objects(self) -> int:
        return sum(len(b) for b in self.boxes)

    def normalized_boxes(self, i: int) -> np.ndarray:
        """Boxes of image i in fractions of the image (x / W, y / H)."""
        H, W = self.image_size
        return self.boxes[i] / np.array([W, H, W, H], dtype=np.float32)

    def targets(self, grid: int, anchors) -> np.ndarray:
        """The YOLO targets of every image: (n, S, S, B, 5 + C) (see anchors.yolo_targets)."""
        return np.stack([yolo_targets(self.normalized_boxes(i), self.labels[i], grid,
                                      anchors=anchors, num_classes=len(self.classes))
                         for i in range(len(self))])


def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) matrix of 1-D linear interpolation with half-pixel centres (output
    pixel i samples the input at x = (i + 0.5) n_in / n_out - 0.5, clamped to the edges).
    Bilinear resizing is separable: resized = R A R^T for an n_in x n_in image A. (No
    anti-aliasing filter when shrinking, unlike image libraries: digits shrink by 0.7 at most.)"""
    x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    x0 = np.floor(x).astype(np.int64)
    x1 = np.minimum(x0 + 1, n_in - 1)
    w = (x - x0).astype(np.float32)
    R = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    R[rows, x0] = 1 - w
    R[rows, x1] += w          # one entry per row: x1 == x0 at the clamped edge adds up to 1
    return R


def resize_digits(digits: np.ndarray, sizes: np.ndarray) -> list:
    """MNIST images (k, 28, 28) uint8 -> k float32 patches in [0, 1], patch i of
    sizes[i] x sizes[i] pixels (bilinear; one batched product R A R^T per size)."""
    A = digits.astype(np.float32) / np.float32(255.0)
    out = [None] * len(digits)
    for s in np.unique(sizes):
        idx = np.flatnonzero(sizes == s)
        R = resize_matrix(A.shape[1], int(s))
        for i, patch in zip(idx, R @ A[idx] @ R.T):
            out[i] = patch
    return out


def _ink_box(patch: np.ndarray, ink: float) -> tuple | None:
    """(x1, y1, x2, y2) of the pixels >= ink inside a patch, or None if there are none."""
    inked = patch >= ink
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(inked.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def paste_digits(patches, labels, rng, canvas_size: int = 64, max_iou: float = 0.1,
                 ink: float = 0.3, tries: int = 100):
    """One canvas (H, W) float32 from square patches (float32 in [0, 1], e.g. from
    resize_digits): each goes to a random place where its ink box overlaps the boxes
    already there by an IoU of at most max_iou (`tries` draws, else it is left out).
    Returns the canvas, the boxes (k', 4) float32 and the labels (k',) of the placed ones."""
    H = W = int(canvas_size)
    canvas = np.zeros((H, W), dtype=np.float32)
    boxes, kept = [], []
    for patch, label in zip(patches, labels):
        s = patch.shape[0]
        box = _ink_box(patch, ink)
        if box is None or s > H:
            continue
        for _ in range(tries):
            top, left = rng.integers(0, H - s + 1, size=2).tolist()
            placed = (left + box[0], top + box[1], left + box[2], top + box[3])
            if not _overlaps(placed, boxes, max_iou):
                break
        else:
            continue
        window = canvas[top:top + s, left:left + s]
        np.maximum(window, patch, out=window)
        boxes.append(placed)
        kept.append(label)
    return canvas, np.array(boxes, np.float32).reshape(-1, 4), np.array(kept, dtype=np.int64)


def make_mnist_detection(n: int, canvas_size: int = 64, digits=(1, 4), digit_size=(20, 36),
                         max_iou: float = 0.1, split: str = "train", seed=None,
                         data_dir=None, ink: float = 0.3) -> DetectionSet:
    """n canvases of `canvas_size` x `canvas_size` with 1 to 4 MNIST digits each (see the
    module docstring). split 'train' draws digits from MNIST's 60,000 training images,
    'test' from its 10,000 test images, so a 'test' set is held out twice over: new canvases
    and digits the detector never saw. seed: an int or a Generator (None: gradwise's one).
    """
    if split not in ("train", "test"):
        raise ValueError(f"make_mnist_detection: split must be 'train' or 'test', got {split!r}")
    if n < 0:
        raise ValueError(f"make_mnist_detection: n must be >= 0, got {n}")
    lo, hi = digits
    if not 1 <= lo <= hi:
        raise ValueError(f"make_mnist_detection: digits must be (min, max) with 1 <= min <= max, "
                         f"got {digits}")
    if not 8 <= digit_size[0] <= digit_size[1] <= canvas_size:
        raise ValueError(f"make_mnist_detection: digit_size {digit_size} must lie in [8, canvas_size="
                         f"{canvas_size}] with min <= max")
    if not 0.0 <= max_iou <= 1.0:
        raise ValueError(f"make_mnist_detection: max_iou must be in [0, 1], got {max_iou}")
    rng = _generator(seed)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False,
                                                      data_dir=data_dir)
    x, t = (x_train, t_train) if split == "train" else (x_test, t_test)
    counts = rng.integers(lo, hi + 1, size=n)
    picks = rng.integers(0, len(x), size=int(counts.sum()))
    sizes = rng.integers(digit_size[0], digit_size[1] + 1, size=len(picks))
    images = np.zeros((n, 1, canvas_size, canvas_size), dtype=np.float32)
    boxes, labels = [], []
    first = np.concatenate([[0], np.cumsum(counts)])
    chunk = 2048  # canvases per batch of resized digits: bounded memory for any n
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        d0, d1 = first[c0], first[c1]
        patches = resize_digits(x[picks[d0:d1], 0], sizes[d0:d1])
        for i in range(c0, c1):
            a, b = first[i] - d0, first[i + 1] - d0
            images[i, 0], box, lab = paste_digits(patches[a:b], t[picks[d0 + a:d0 + b]], rng,
                                                  canvas_size=canvas_size, max_iou=max_iou, ink=ink)
            boxes.append(box)
            labels.append(lab)
    return DetectionSet(images, boxes, labels, classes=MNIST_CLASSES)
