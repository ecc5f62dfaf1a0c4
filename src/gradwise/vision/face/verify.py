"""Verification (1:1): the rule "same identity if d(x1, x2) <= threshold", its ROC curve and
AUC over every threshold, and the threshold chosen on a dev split (`best_threshold`).

Distances are the squared ones of distances.py. The course's `verify` compares the plain
norm with 0.7; a squared-distance threshold t corresponds to a plain one of sqrt(t).
"""
from __future__ import annotations

import numpy as np


def _scores(name: str, distances, same) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=np.float64).ravel()
    s = np.asarray(same).ravel()
    if d.shape != s.shape:
        raise ValueError(f"{name}: {d.size} distances but {s.size} same/different labels")
    if s.dtype != bool:
        if not np.isin(s, (0, 1)).all():
            raise ValueError(f"{name}: same must hold booleans or 0/1, got values {np.unique(s)[:5]}")
        s = s.astype(bool)
    if not np.isfinite(d).all():
        raise ValueError(f"{name}: distances contain NaN or infinity")
    return d, s


def roc_curve(distances, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC of the rule "same identity if d <= t" over every threshold t.

    Returns (fpr, tpr, thresholds): thresholds are the distinct distances in increasing
    order after a first -inf (accept nothing); tpr[k] = accepted same pairs / same pairs,
    fpr[k] = accepted different pairs / different pairs at thresholds[k]. This is
    scikit-learn's roc_curve(same, -distances) without dropping collinear points.
    """
    d, s = _scores("roc_curve", distances, same)
    n_pos, n_neg = int(s.sum()), int((~s).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"roc_curve: need both same and different pairs, got {n_pos} same and "
                         f"{n_neg} different")
    order = np.argsort(d, kind="stable")
    d, s = d[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(d)), d.size - 1]       # the last pair of each distance
    tp = np.cumsum(s)[last]
    fp = (last + 1) - tp
    return (np.r_[0.0, fp / n_neg], np.r_[0.0, tp / n_pos], np.r_[-np.inf, d[last]])


def auc(fpr, tpr) -> float:
    """Area under the curve (fpr, tpr) by the trapezoidal rule."""
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def best_threshold(distances, same) -> tuple[float, float]:
    """The threshold t for "same if d <= t" with the highest accuracy on these pairs (a dev
    split), and that accuracy. t lies halfway between two consecutive distinct distances,
    so that it does not sit on a training pair's distance."""
    fpr, tpr, thr = roc_curve(distances, same)
    d, s = _scores("best_threshold", distances, same)
    n_pos, n_neg = s.sum(), (~s).sum()
    correct = tpr * n_pos + (1.0 - fpr) * n_neg
    k = int(np.argmax(correct))
    if k == 0:
        t = thr[1] - 1.0                                        # reject everything
    elif k == len(thr) - 1:
        t = thr[k] + 1.0                                        # accept everything
    else:
        t = (thr[k] + thr[k + 1]) / 2.0
    return float(t), float(correct[k] / d.size)


def verification_accuracy(distances, same, threshold: float) -> float:
    """The fraction of pairs classified right by "same if d <= threshold"."""
    d, s = _scores("verification_accuracy", distances, same)
    return float(np.mean((d <= threshold) == s))
