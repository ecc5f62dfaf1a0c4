"""Bounding boxes: the two forms, area, IoU and non-max suppression.

A box is four numbers in one of two forms (the course's names):

    corner form  (x1, y1, x2, y2)   top-left and bottom-right corners
    center form  (bx, by, bh, bw)   center, then height, then width

x grows to the right (columns), y grows downwards (rows), and a box is a continuous region:
its area is (x2 - x1)(y2 - y1), with no "+1" for pixel counts (torchvision's convention; the
old Pascal VOC code added 1). Coordinates may be pixels or fractions of the image: every
function here works in whatever unit it is given. Beware the order of the center form: the
course writes bh before bw, while torchvision's "cxcywh" puts the width first.

Boxes are NumPy arrays (or Tensors, whose data is used) of shape (..., 4). These functions
are measurements and selections, not differentiable ops: the detector's losses never
differentiate through IoU.
"""
from __future__ import annotations

import numpy as np

from ...tensor import to_numpy

__all__ = [
    "corners_to_center", "center_to_corners", "box_area", "iou", "iou_matrix", "clip_boxes",
    "nms", "batched_nms", "non_max_suppression",
]


def _array(name: str, boxes) -> np.ndarray:
    """boxes as a float array (..., 4), or a clear error naming the function and the shape."""
    a = to_numpy(boxes)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name}: boxes must be numbers, got dtype {a.dtype}")
    if a.ndim == 0 or a.shape[-1] != 4:
        raise ValueError(f"{name}: boxes must have shape (..., 4), got {a.shape}")
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def _corners(name: str, boxes) -> np.ndarray:
    """A corner-form array, checked: x1 <= x2 and y1 <= y2 (a corner-form box cannot be
    inverted; an inverted one is usually a center-form box passed by mistake)."""
    a = _array(name, boxes)
    bad = (a[..., 2] < a[..., 0]) | (a[..., 3] < a[..., 1])
    if bad.any():
        i = np.argwhere(bad)[0]
        raise ValueError(f"{name}: corner-form boxes need x1 <= x2 and y1 <= y2; box {tuple(i.tolist())} "
                         f"is {a[tuple(i)].tolist()} (a center-form box given as corners?)")
    return a


# ---- the two forms ----------------------------------------------------------------------
def corners_to_center(boxes) -> np.ndarray:
    """(x1, y1, x2, y2) -> (bx, by, bh, bw): bx = (x1 + x2) / 2, bh = y2 - y1, ..."""
    a = _corners("corners_to_center", boxes)
    x1, y1, x2, y2 = np.moveaxis(a, -1, 0)
    return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1], axis=-1)


def center_to_corners(boxes) -> np.ndarray:
    """(bx, by, bh, bw) -> (x1, y1, x2, y2): x1 = bx - bw / 2, y2 = by + bh / 2, ..."""
    a = _array("center_to_corners", boxes)
    bx, by, bh, bw = np.moveaxis(a, -1, 0)
    if (bh < 0).any() or (bw < 0).any():
        raise ValueError("center_to_corners: heights and widths (bh, bw) must be >= 0")
    return np.stack([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2], axis=-1)


def box_area(boxes) -> np.ndarray:
    """(x2 - x1)(y2 - y1) of corner-form boxes (..., 4) -> (...)."""
    a = _corners("box_area", boxes)
    return (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])


def clip_boxes(boxes, height: float, width: float) -> np.ndarray:
    """Corner-form boxes cut to the image [0, width] x [0, height]."""
    a = _corners("clip_boxes", boxes).copy()
    a[..., 0::2] = a[..., 0::2].clip(0, width)
    a[..., 1::2] = a[..., 1::2].clip(0, height)
    return a


# ---- intersection over union ------------------------------------------------------------
def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of corner-form boxes broadcast against each other (the formula, unchecked)."""
    inter_w = (np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])).clip(min=0)
    inter_h = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])).clip(min=0)
    inter = inter_w * inter_h
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
             + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter)
    # two empty boxes have no union: their IoU is 0, not 0/0
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _overlaps(box: tuple, boxes: list, max_iou: float) -> bool:
    """Whether the IoU of box with any of boxes is above max_iou: _iou's formula on plain
    numbers, for a canvas's few boxes in whole pixels (synth.paste_digits). Python's exact
    integer arithmetic tests a place against three boxes in 2.5-3.4 us, NumPy's calls on
    arrays of four numbers in 22-25 (8000 canvases: 2.8 -> 1.0-1.3 s)."""
    x1, y1, x2, y2 = box
    area = (x2 - x1) * (y2 - y1)
    for a1, b1, a2, b2 in boxes:
        inter = max(0, min(x2, a2) - max(x1, a1)) * max(0, min(y2, b2) - max(y1, b1))
        union = area + (a2 - a1) * (b2 - b1) - inter
        if union > 0 and inter / union > max_iou:   # two empty boxes: IoU 0, not 0/0
            return True
    return False


def iou(box1, box2) -> np.ndarray:
    """Intersection over union of corner-form boxes, elementwise with broadcasting:
    (..., 4) and (..., 4) -> (...). Disjoint boxes, and boxes that only touch, give 0.

        intersection = max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))
        IoU = intersection / (area1 + area2 - intersection)
    """
    a, b = _corners("iou", box1), _corners("iou", box2)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"iou: boxes of shapes {a.shape} and {b.shape} do not broadcast; "
                         f"use iou_matrix for every pair") from None
    return _iou(a, b)


def iou_matrix(boxes1, boxes2) -> np.ndarray:
    """The IoU of every pair: boxes1 (N, 4), boxes2 (M, 4) -> (N, M) (torchvision's box_iou)."""
    a, b = _corners("iou_matrix", boxes1), _corners("iou_matrix", boxes2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"iou_matrix: expected two lists of boxes (N, 4) and (M, 4), "
                         f"got {a.shape} and {b.shape}")
    return _iou(a[:, None, :], b[None, :, :])


# ---- non-max suppression ----------------------------------------------------------------
def _scores(name: str, scores, n: int) -> np.ndarray:
    s = to_numpy(scores)
    if s.shape != (n,):
        raise ValueError(f"{name}: scores must have shape ({n},) for {n} boxes, got {s.shape}")
    return s


def _check_iou_threshold(name: str, iou_threshold: float) -> None:
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"{name}: iou_threshold must be in [0, 1], got {iou_threshold}")


def nms(boxes, scores, iou_threshold: float = 0.5) -> np.ndarray:
    """Non-max suppression, the course's greedy loop, over boxes of one class:

        while boxes remain: keep the one with the highest score, then discard every
        remaining box whose IoU with it is > iou_threshold.

    boxes (N, 4) corner form, scores (N,). Returns the indices kept, by decreasing score
    (equal scores: the lower index first). A box whose IoU equals the threshold is kept,
    as in torchvision.ops.nms.
    """
    a = _corners("nms", boxes)
    if a.ndim != 2:
        raise ValueError(f"nms: boxes must be (N, 4), got {a.shape}")
    _check_iou_threshold("nms", iou_threshold)
    order = np.argsort(-_scores("nms", scores, len(a)), kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        order = rest[_iou(a[best], a[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, classes, iou_threshold: float = 0.5) -> np.ndarray:
    """Non-max suppression per class: a box only suppresses boxes of its own class (a "3"
    never removes an overlapping "8"). Returns the indices kept, by decreasing score."""
    a = _corners("batched_nms", boxes)
    if a.ndim != 2:
        raise ValueError(f"batched_nms: boxes must be (N, 4), got {a.shape}")
    s = _scores("batched_nms", scores, len(a))
    c = to_numpy(classes)
    if c.shape != (len(a),):
        raise ValueError(f"batched_nms: classes must have shape ({len(a)},), got {c.shape}")
    keep = [np.flatnonzero(c == k)[nms(a[c == k], s[c == k], iou_threshold)] for k in np.unique(c)]
    keep = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    return keep[np.argsort(-s[keep], kind="stable")]


def non_max_suppression(boxes, scores, classes, score_threshold: float = 0.6,
                        iou_threshold: float = 0.5, max_boxes: int = 10) -> np.ndarray:
    """Filter then suppress, as the course's yolo_eval does:

    1. drop the boxes with score < score_threshold;
    2. non-max suppression per class (iou_threshold);
    3. keep at most max_boxes, the highest scores.

    Returns the indices of the boxes kept, by decreasing score.
    """
    if max_boxes < 0:
        raise ValueError(f"non_max_suppression: max_boxes must be >= 0, got {max_boxes}")
    a = _corners("non_max_suppression", boxes)
    s = _scores("non_max_suppression", scores, len(a))
    passed = np.flatnonzero(s >= score_threshold)
    c = to_numpy(classes)
    if c.shape != s.shape:
        raise ValueError(f"non_max_suppression: classes must have shape {s.shape}, got {c.shape}")
    keep = passed[batched_nms(a[passed], s[passed], c[passed], iou_threshold=iou_threshold)]
    return keep[:max_boxes]
