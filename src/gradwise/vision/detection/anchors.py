"""Anchor boxes: choosing their shapes, laying them on the grid, and giving each object one.

Anchors are shapes (bh, bw), in the same order as the center form, and in fractions of the
image (an anchor (0.25, 0.125) is a quarter of the image high and an eighth wide). The
course's YAD2K anchors are in grid cells instead: multiply ours by S to compare.

YOLO's target for an image, Y of shape (S, S, B, 5 + C), is the course's y for every cell
and anchor: Y[i, j, b] = (pc, bx, by, bh, bw, c1, ..., cC) for the cell in row i (y) and
column j (x). An object goes to the cell that holds its center and, inside it, to the anchor
whose shape has the best IoU with its box; every other entry has pc = 0 (and the rest 0).
Box coordinates in Y are fractions of the image, in the center form.
"""
from __future__ import annotations

import numpy as np

from ... import backend
from .boxes import _corners, corners_to_center

__all__ = ["shape_iou", "kmeans_anchors", "anchor_grid", "assign_anchors", "yolo_targets"]


def _anchors(name: str, anchors) -> np.ndarray:
    a = np.asarray(anchors, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or len(a) == 0 or (a <= 0).any():
        raise ValueError(f"{name}: anchors must be positive (bh, bw) pairs of shape (B, 2), got "
                         f"{a.tolist() if a.size <= 8 else a.shape}")
    return a


def shape_iou(hw1, hw2) -> np.ndarray:
    """IoU of box shapes (N, 2) and (K, 2) placed on a common center -> (N, K): how well an
    anchor fits an object's shape, whatever their positions (YOLOv2's distance 1 - IoU)."""
    a, b = np.asarray(hw1, dtype=np.float64), np.asarray(hw2, dtype=np.float64)
    inter = np.minimum(a[:, None, 0], b[None, :, 0]) * np.minimum(a[:, None, 1], b[None, :, 1])
    union = (a[:, 0] * a[:, 1])[:, None] + (b[:, 0] * b[:, 1])[None, :] - inter
    return inter / union


def kmeans_anchors(hw, k: int, iterations: int = 100, seed: int | None = None) -> np.ndarray:
    """B = k anchor shapes from the objects' (bh, bw), by k-means with YOLOv2's distance
    d(box, centroid) = 1 - IoU(box, centroid) (so that big boxes do not dominate, as they
    would under Euclidean distance). Starts from k-means++ draws (seeded generator, or
    `seed`); a centroid is the mean shape of its cluster. Returns (k, 2), smallest area first.
    """
    hw = np.asarray(hw, dtype=np.float64)
    if hw.ndim != 2 or hw.shape[1] != 2 or (hw <= 0).any():
        raise ValueError(f"kmeans_anchors: expected positive box shapes (N, 2), got {hw.shape}")
    if not 1 <= k <= len(hw):
        raise ValueError(f"kmeans_anchors: need 1 <= k <= the number of boxes ({len(hw)}), got k={k}")
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    centroids = [hw[rng.integers(len(hw))]]
    for _ in range(1, k):  # k-means++: far boxes (in 1 - IoU) are more likely picks
        d = 1 - shape_iou(hw, np.array(centroids)).max(axis=1)
        p = d / d.sum() if d.sum() > 0 else None
        centroids.append(hw[rng.choice(len(hw), p=p)])
    centroids = np.array(centroids)
    assign = None
    for _ in range(iterations):
        new = np.argmax(shape_iou(hw, centroids), axis=1)
        if assign is not None and (new == assign).all():
            break
        assign = new
        for j in range(k):
            if (assign == j).any():  # an empty cluster keeps its centroid
                centroids[j] = hw[assign == j].mean(axis=0)
    return centroids[np.argsort(centroids[:, 0] * centroids[:, 1], kind="stable")]


def anchor_grid(grid: int, anchors) -> np.ndarray:
    """Every anchor at every cell center: (S, S, B, 4) boxes (bx, by, bh, bw) in fractions of
    the image; cell (i, j) is row i, column j, centered at ((j + 0.5) / S, (i + 0.5) / S)."""
    a = _anchors("anchor_grid", anchors)
    S, B = int(grid), len(a)
    c = (np.arange(S) + 0.5) / S
    out = np.empty((S, S, B, 4))
    out[..., 0] = c[None, :, None]
    out[..., 1] = c[:, None, None]
    out[..., 2:] = a
    return out


def assign_anchors(boxes, grid: int, anchors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (row i, column j, anchor b) responsible for each corner-form box (fractions of
    the image): the cell that holds the box's center, and the anchor of best shape IoU.

    When two objects want the same cell and anchor, the one whose shape fits the anchor
    better keeps it and the other takes its next-best free anchor in that cell; with no free
    anchor left it gets b = -1 (it cannot be represented in Y: with B anchors a cell holds at
    most B objects). Centers on the far edge (x = 1) belong to the last cell.
    """
    a = _anchors("assign_anchors", anchors)
    S = int(grid)
    c = corners_to_center(_corners("assign_anchors", boxes).reshape(-1, 4))
    i = np.clip(np.floor(c[:, 1] * S), 0, S - 1).astype(np.int64)
    j = np.clip(np.floor(c[:, 0] * S), 0, S - 1).astype(np.int64)
    fit = shape_iou(c[:, 2:].clip(min=1e-12), a)           # (n, B)
    b = np.full(len(c), -1, dtype=np.int64)
    taken = set()
    for n in np.argsort(-fit.max(axis=1), kind="stable"):   # best-fitting objects choose first
        for choice in np.argsort(-fit[n], kind="stable"):
            if (i[n], j[n], choice) not in taken:
                taken.add((i[n], j[n], choice))
                b[n] = choice
                break
    return i, j, b


def yolo_targets(boxes, labels, grid: int, anchors, num_classes: int) -> np.ndarray:
    """The YOLO target Y (S, S, B, 5 + C) of one image: (pc, bx, by, bh, bw, one-hot class)
    at each object's (cell, anchor) (see assign_anchors), zeros elsewhere.

    boxes: (k, 4) corner form in fractions of the image; labels: (k,) ints in [0, C).
    Objects that find no free anchor are left out (the docstring of assign_anchors says when).
    """
    a = _anchors("yolo_targets", anchors)
    boxes = _corners("yolo_targets", boxes).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(boxes):
        raise ValueError(f"yolo_targets: {len(boxes)} boxes but {len(labels)} labels")
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"yolo_targets: labels must be integers in [0, {num_classes}), "
                         f"got {labels.tolist()}")
    Y = np.zeros((grid, grid, len(a), 5 + num_classes), dtype=np.float32)
    i, j, b = assign_anchors(boxes, grid, a)
    ok = b >= 0
    i, j, b = i[ok], j[ok], b[ok]
    Y[i, j, b, 0] = 1
    Y[i, j, b, 1:5] = corners_to_center(boxes[ok])
    Y[i, j, b, 5 + labels[ok]] = 1
    return Y
