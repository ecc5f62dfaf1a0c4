"""Mean average precision (mAP), the detection benchmark's score.

For one class, take every detection of that class over the whole set, by decreasing score.
Walking down the list, a detection is a true positive when its IoU with a ground-truth box
of the same class in the same image is >= iou_threshold and that box has not been matched
yet (each object is found once: a second detection of it is a false positive); otherwise it
is a false positive. After each detection:

    precision = TP / (TP + FP),   recall = TP / (number of ground-truth objects)

AP is the area under this precision-recall curve after making precision non-increasing
(at each recall, the best precision reached at that recall or beyond): Pascal VOC's
"all-point" AP (VOC 2010 onwards). mAP is the mean of AP over the classes that have at
least one ground-truth object; a class with objects but no detections has AP = 0.

Conventions that differ: VOC counts a match at IoU > 0.5 strictly, COCO at >= (used here);
COCO averages 101 recall points and over IoU thresholds 0.5:0.95 ("mAP@0.5" is COCO's AP50,
close to VOC's with the same threshold).
"""
from __future__ import annotations

import numpy as np

from .boxes import _corners, iou_matrix

__all__ = ["average_precision", "match_detections", "mean_average_precision"]


def average_precision(recall, precision) -> float:
    """All-point interpolated AP of a precision-recall curve (recall non-decreasing):
    sum over the points where recall rises of (r_k - r_{k-1}) * max(precision at r >= r_k)."""
    r = np.concatenate([[0.0], np.asarray(recall, dtype=np.float64)])
    p = np.concatenate([[0.0], np.asarray(precision, dtype=np.float64)])
    if r.size != p.size:
        raise ValueError(f"average_precision: {r.size - 1} recalls but {p.size - 1} precisions")
    if (np.diff(r) < 0).any():
        raise ValueError("average_precision: recall must be non-decreasing along the list")
    envelope = np.maximum.accumulate(p[::-1])[::-1]  # best precision at this recall or beyond
    return float(np.sum(np.diff(r) * envelope[1:]))


def match_detections(det_boxes, det_scores, gt_boxes, iou_threshold: float = 0.5) -> np.ndarray:
    """True/false positive flags for one image and one class: detections in order of
    decreasing score each take the unmatched ground-truth box of highest IoU, when that IoU
    is >= iou_threshold. Returns a bool array (k,) in the order of the detections given."""
    det = _corners("match_detections", det_boxes).reshape(-1, 4)
    gt = _corners("match_detections", gt_boxes).reshape(-1, 4)
    tp = np.zeros(len(det), dtype=bool)
    if not len(det) or not len(gt):
        return tp
    overlaps = iou_matrix(det, gt)
    taken = np.zeros(len(gt), dtype=bool)
    for d in np.argsort(-np.asarray(det_scores), kind="stable"):
        free = np.where(taken, -1.0, overlaps[d])
        g = int(np.argmax(free))
        if free[g] >= iou_threshold:
            tp[d] = taken[g] = True
    return tp


def _unpack(name, item):
    """(boxes, scores, labels) from a Detections, a tuple or a dict."""
    if hasattr(item, "boxes"):
        return item.boxes, getattr(item, "scores", None), item.labels
    if isinstance(item, dict):
        return item["boxes"], item.get("scores"), item["labels"]
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return (item[0], item[1], item[2]) if len(item) == 3 else (item[0], None, item[1])
    raise TypeError(f"{name}: expected Detections, (boxes, scores, labels) or (boxes, labels), "
                    f"got {type(item).__name__}")


def mean_average_precision(detections, ground_truth, num_classes: int | None = None,
                           iou_threshold: float = 0.5) -> dict:
    """mAP over a set of images.

    detections: one entry per image: a Detections, or (boxes, scores, labels);
    ground_truth: one entry per image: (boxes, labels) (or an object with .boxes, .labels).
    Boxes in corner form, in the same unit on both sides. Returns
    {'mAP': float, 'ap': (num_classes,) array with NaN for classes without objects,
     'num_objects': (num_classes,), 'num_detections': (num_classes,)}.
    """
    if len(detections) != len(ground_truth):
        raise ValueError(f"mean_average_precision: {len(detections)} detection lists for "
                         f"{len(ground_truth)} images")
    dets = [_unpack("mean_average_precision", d) for d in detections]
    gts = [_unpack("mean_average_precision", g) for g in ground_truth]
    labels_seen = [np.asarray(x[2]).reshape(-1) for x in dets + gts]
    if num_classes is None:
        num_classes = 1 + int(max((lab.max() for lab in labels_seen if lab.size), default=-1))
    ap = np.full(num_classes, np.nan)
    n_obj = np.zeros(num_classes, dtype=np.int64)
    n_det = np.zeros(num_classes, dtype=np.int64)
    for c in range(num_classes):
        scores, flags = [], []
        for (db, ds, dl), (gb, _, gl) in zip(dets, gts):
            dl, gl = np.asarray(dl).reshape(-1), np.asarray(gl).reshape(-1)
            db, gb = np.asarray(db).reshape(-1, 4), np.asarray(gb).reshape(-1, 4)
            if ds is None:
                raise ValueError("mean_average_precision: detections need scores to be ranked")
            ds = np.asarray(ds).reshape(-1)
            mine = dl == c
            n_obj[c] += int((gl == c).sum())
            scores.append(ds[mine])
            flags.append(match_detections(db[mine], ds[mine], gb[gl == c], iou_threshold=iou_threshold))
        scores, flags = np.concatenate(scores), np.concatenate(flags)
        n_det[c] = len(scores)
        if n_obj[c] == 0:
            continue
        order = np.argsort(-scores, kind="stable")
        tp = np.cumsum(flags[order])
        fp = np.cumsum(~flags[order])
        ap[c] = average_precision(tp / n_obj[c], tp / np.maximum(tp + fp, 1)) if len(order) else 0.0
    valid = ~np.isnan(ap)
    return {"mAP": float(ap[valid].mean()) if valid.any() else float("nan"), "ap": ap,
            "num_objects": n_obj, "num_detections": n_det}
