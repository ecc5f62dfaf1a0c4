"""Classification metrics on arrays or Tensors (plain NumPy, outside the graph).

Predictions may be class labels or model outputs; `to_labels` turns outputs into labels:
    (m, C) scores, C > 1        -> argmax over classes (logits or probabilities alike)
    (m,) or (m, 1) floats       -> 1 where p > threshold (0.5: probabilities), else 0
    integers or bools           -> themselves
For binary logits pass threshold=0.0 (binary_threshold(from_logits) gives the right one).
Whether one score per example is a logit or a probability cannot be read off its values (a
logit of 0.3 is a valid probability too), so it is always said, never guessed. Targets go
through the same rule (one-hot rows become labels, float 0/1 targets become ints).

With TP, FP, FN, TN counted for the positive class (or, for average='macro', for each class
c against the rest, then averaged over classes with equal weight):
    accuracy  = (number of correct predictions) / m
    precision = TP / (TP + FP)
    recall    = TP / (TP + FN)
    f1        = 2 * precision * recall / (precision + recall)
A ratio whose denominator is 0 is reported as 0 (as sklearn's zero_division=0).
"""
from __future__ import annotations

import numpy as np

from ..tensor import to_numpy

__all__ = ["to_labels", "one_score", "binary_threshold", "accuracy", "confusion_matrix", "precision", "recall", "f1",
           "precision_recall_f1", "from_confusion"]


def to_labels(y, threshold: float = 0.5) -> np.ndarray:
    """Integer class labels (m,) from labels, one-hot rows, scores (m, C) or probabilities."""
    y = to_numpy(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"metrics: expected labels (m,), scores (m, C) or probabilities (m, 1), "
                         f"got shape {y.shape}")
    if y.dtype.kind == "f":
        return (y > threshold).astype(np.int64)
    return y.astype(np.int64, copy=False)


def one_score(shape) -> bool:
    """Whether outputs of this shape hold one score per example ((m,) or (m, 1)): those need a
    threshold, unlike (m, C) scores, whose argmax is the same for logits and probabilities."""
    return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)


def binary_threshold(from_logits, who: str = "metrics") -> float:
    """The decision threshold of one score per example: 0 for logits (sigmoid(z) > 0.5 exactly
    when z > 0), 0.5 for probabilities. from_logits must be said: None is an error."""
    if from_logits is None:
        raise ValueError(f"{who}: one score per example could be a logit (positive above 0) "
                         f"or a probability (positive above 0.5), and its values cannot tell "
                         f"which: pass from_logits=True or from_logits=False")
    if not isinstance(from_logits, (bool, np.bool_)):
        raise TypeError(f"{who}: from_logits must be True or False, got {from_logits!r}")
    return 0.0 if from_logits else 0.5


def _pair(y_true, y_pred, threshold):
    t, p = to_labels(y_true, threshold), to_labels(y_pred, threshold)
    if t.shape != p.shape:
        raise ValueError(f"metrics: {t.shape[0]} targets but {p.shape[0]} predictions")
    return t, p


def accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """Fraction of correct predictions: mean(label(y_pred) == label(y_true))."""
    t, p = _pair(y_true, y_pred, threshold)
    if t.size == 0:
        raise ValueError("accuracy: no examples")
    return float(np.count_nonzero(t == p)) / t.size


def confusion_matrix(y_true, y_pred, num_classes: int | None = None,
                     threshold: float = 0.5) -> np.ndarray:
    """Counts (C, C): entry [i, j] is the number of examples of true class i predicted as j
    (rows are the truth, as in sklearn). num_classes defaults to the largest label + 1."""
    t, p = _pair(y_true, y_pred, threshold)
    if num_classes is None:
        num_classes = int(max(t.max(initial=0), p.max(initial=0))) + 1
    C = int(num_classes)
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= C):
            raise ValueError(f"confusion_matrix: {name} has a label outside [0, {C})")
    return np.bincount(t * C + p, minlength=C * C).reshape(C, C)


def _ratio(num, den):
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def from_confusion(cm: np.ndarray, average: str = "binary", pos_label: int = 1) -> dict:
    """accuracy, precision, recall and f1 from a confusion matrix (rows = truth).

    average='binary' scores the class pos_label; 'macro' averages the per-class scores
    (f1 per class first, then the mean, as sklearn does).
    """
    cm = np.asarray(cm)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp  # predicted c, but not c
    fn = cm.sum(axis=1) - tp  # c, but predicted something else
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f = _ratio(2 * p * r, p + r)
    acc = float(tp.sum() / cm.sum()) if cm.sum() else 0.0
    if average == "binary":
        if not 0 <= pos_label < len(cm):
            raise ValueError(f"pos_label {pos_label} is not a class of a {len(cm)}-class matrix")
        i = pos_label
        return {"accuracy": acc, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i])}
    if average == "macro":
        return {"accuracy": acc, "precision": float(p.mean()), "recall": float(r.mean()),
                "f1": float(f.mean())}
    raise ValueError(f"average must be 'binary' or 'macro', got {average!r}")


def precision_recall_f1(y_true, y_pred, average: str = "binary", pos_label: int = 1,
                        num_classes: int | None = None, threshold: float = 0.5) -> tuple:
    """(precision, recall, f1) in one pass over the confusion matrix."""
    if average == "binary" and num_classes is None:
        num_classes = 2
    cm = confusion_matrix(y_true, y_pred, num_classes, threshold)
    s = from_confusion(cm, average, pos_label)
    return s["precision"], s["recall"], s["f1"]


def precision(y_true, y_pred, average: str = "binary", pos_label: int = 1,
              num_classes: int | None = None, threshold: float = 0.5) -> float:
    """TP / (TP + FP): of the examples predicted positive, the fraction that are."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, num_classes, threshold)[0]


def recall(y_true, y_pred, average: str = "binary", pos_label: int = 1,
           num_classes: int | None = None, threshold: float = 0.5) -> float:
    """TP / (TP + FN): of the positive examples, the fraction found."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, num_classes, threshold)[1]


def f1(y_true, y_pred, average: str = "binary", pos_label: int = 1,
       num_classes: int | None = None, threshold: float = 0.5) -> float:
    """2 P R / (P + R), the harmonic mean of precision and recall."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, num_classes, threshold)[2]
