"""dlib's 5-point face landmark predictor (shape_predictor_5_face_landmarks.dat) in NumPy:
a cascade of regression trees on pixel differences (Kazemi and Sullivan, "One millisecond
face alignment with an ensemble of regression trees", 2014).

Given the face's box, the shape s (5 points, in the box's unit square) starts at the mean
shape s0 and each of the cascade's levels adds the leaves its trees pick:

    s <- s + sum over trees of leaf(tree, pixels)

A level reads its pixels at points tied to the current shape: each point is a landmark of
the shape plus an offset that moves with the similarity carrying s0 onto s. A tree splits
on the difference of two such pixels' intensities against a threshold, down to a leaf of
shape increments. The file (dlib/image_processing/shape_predictor.h) holds s0, the trees
(splits idx1, idx2, threshold; leaves) and the pixels' anchors and offsets per level.

    predictor = ShapePredictor.load(path)
    points = predictor(image, box)       # (5, 2) pixels (x, y); box = (left, top, right, bottom)
"""
from __future__ import annotations

import numpy as np

from .align import similarity_transform
from .dlib_format import DlibReader


class ShapePredictor:
    """The cascade: s0 (p, 2) in the unit box; per level, the pixels' anchors (f,) and
    offsets (f, 2), and the trees' splits idx (T, n, 2), thresholds (T, n) and leaves
    (T, n + 1, p, 2), with n = 2^depth - 1 splits per tree stored breadth first."""

    def __init__(self, mean_shape, levels):
        self.mean_shape = np.asarray(mean_shape, np.float64)
        self.levels = levels

    @property
    def num_parts(self) -> int:
        return len(self.mean_shape)

    def __call__(self, image, box) -> np.ndarray:
        """The landmarks (p, 2) as (x, y) pixels, rounded as dlib's points are, of the face
        in `box` = (left, top, right, bottom) of an RGB (H, W, 3) or grey (H, W) image."""
        gray = _intensity(image)
        left, top, right, bottom = _box(box)
        # the unit square -> the box (dlib's unnormalizing_tform: corners onto corners)
        to_image = np.array([right - left, bottom - top], np.float64), np.array([left, top], np.float64)
        shape = self.mean_shape.copy()
        for anchors, offsets, idx, thresh, leaves in self.levels:
            A, _ = similarity_transform(self.mean_shape, shape)
            points = (offsets @ A.T.astype(np.float32) + shape[anchors]) * to_image[0] + to_image[1]
            values = _pixels(gray, points)
            shape = shape + leaves[np.arange(len(leaves)), _leaf(values, idx, thresh)].sum(0)
        return np.floor(shape * to_image[0] + to_image[1] + 0.5)

    @classmethod
    def load(cls, path) -> ShapePredictor:
        """The predictor stored in a dlib shape_predictor .dat file (ValueError naming the
        file when it is truncated or holds something else)."""
        r = DlibReader(path)
        if r.int("the shape predictor's version") != 1:
            raise r.error("the shape predictor's version", "expected version 1")
        mean_shape = r.matrix("the mean shape").reshape(-1, 2)
        trees = [[_read_tree(r, len(mean_shape)) for _ in range(r.int("the number of trees"))]
                 for _ in range(r.int("the number of cascade levels"))]
        anchors = [np.array([r.int("a pixel's anchor") for _ in range(r.int("the number of anchors"))])
                   for _ in range(r.int("the number of anchor lists"))]
        offsets = [np.array([[r.float("a pixel's offset x"), r.float("a pixel's offset y")]
                             for _ in range(r.int("the number of offsets"))], np.float32)
                   for _ in range(r.int("the number of offset lists"))]
        r.end("the end of the shape predictor")
        if not (len(trees) == len(anchors) == len(offsets)):
            raise r.error("the cascade", f"{len(trees)} levels of trees but {len(anchors)} of "
                          f"anchors and {len(offsets)} of offsets")
        levels = []
        for level, a, o in zip(trees, anchors, offsets):
            if len(a) != len(o) or (a >= len(mean_shape)).any():
                raise r.error("the cascade", "anchors and offsets do not match the shape")
            splits, leaves = zip(*level)
            idx = np.stack([s[:, :2] for s in splits]).astype(np.int64)
            if (idx >= len(a)).any():
                raise r.error("a tree's split", "it reads a pixel the level does not have")
            levels.append((a, o, idx, np.stack([s[:, 2] for s in splits]).astype(np.float32),
                           np.stack(leaves)))
        return cls(mean_shape, levels)


def _read_tree(r: DlibReader, parts: int):
    """(splits (n, 3): idx1, idx2, threshold; leaves (n + 1, parts, 2))."""
    n = r.int("the number of splits")
    S = r.ints(4 * n, "a tree's splits").reshape(n, 4)      # idx1, idx2, threshold (m, e)
    splits = np.column_stack([S[:, :2], np.ldexp(S[:, 2].astype(np.float64), S[:, 3].astype(np.int32))])
    n_leaves = r.int("the number of leaves")
    if n_leaves != n + 1:
        raise r.error("a tree", f"{n} splits but {n_leaves} leaves")
    # each leaf: a matrix (2 parts, 1) with the dims written negated, then its floats (m, e)
    L = r.ints(n_leaves * (2 + 4 * parts), "a tree's leaves").reshape(n_leaves, -1)
    if (np.abs(L[:, :2]) != [2 * parts, 1]).any():
        raise r.error("a tree's leaves", f"expected leaves of {2 * parts} numbers")
    leaves = np.ldexp(L[:, 2::2].astype(np.float64), L[:, 3::2].astype(np.int32))
    return splits, leaves.reshape(n_leaves, parts, 2)


def _leaf(values: np.ndarray, idx: np.ndarray, thresh: np.ndarray) -> np.ndarray:
    """The leaf each tree reaches: at node i go to 2i + 1 when the difference of its two
    pixels exceeds the threshold, else to 2i + 2; all trees step together."""
    T, n = thresh.shape
    node = np.zeros(T, np.int64)
    rows = np.arange(T)
    while (node < n).any():
        live = node < n
        i = np.where(live, node, 0)
        diff = values[idx[rows, i, 0]] - values[idx[rows, i, 1]]
        step = np.where(diff > thresh[rows, i], 2 * i + 1, 2 * i + 2)
        node = np.where(live, step, node)
    return node - n


def _pixels(gray: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Intensities at the points rounded to pixels (dlib's point(dpoint)); 0 outside."""
    H, W = gray.shape
    x = np.floor(points[:, 0] + 0.5).astype(np.int64)
    y = np.floor(points[:, 1] + 0.5).astype(np.int64)
    inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    return np.where(inside, gray[np.clip(y, 0, H - 1), np.clip(x, 0, W - 1)], 0).astype(np.float32)


def _intensity(image) -> np.ndarray:
    """dlib's get_pixel_intensity: grey as is; RGB as the integer mean (r + g + b) // 3."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        if image.dtype != np.uint8:
            raise ValueError(f"ShapePredictor: expected a uint8 image, got {image.dtype}")
        return image.astype(np.int32).sum(-1) // 3
    if image.ndim == 2:
        return image
    raise ValueError(f"ShapePredictor: expected an image (H, W, 3) or (H, W), got {image.shape}")


def _box(box):
    b = np.asarray(box, np.float64).ravel()
    if b.shape != (4,) or not np.isfinite(b).all() or b[2] <= b[0] or b[3] <= b[1]:
        raise ValueError(f"ShapePredictor: a face box is (left, top, right, bottom) with "
                         f"right > left and bottom > top, got {box!r}")
    return b
