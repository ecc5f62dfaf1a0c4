"""Error analysis: look at the mistakes before deciding what to work on.

    out = predict(model, X_dev)                                 # logits (F.cross_entropy)
    plot_confusion_matrix(y_dev, out, "confusion.png", class_names=MNIST_CLASSES)
    top_confusions(y_dev, out, class_names=MNIST_CLASSES)       # the commonest mix-ups first
    worst = most_confident_mistakes(out, y_dev, k=16, from_logits=True)
    plot_mistakes(X_dev, worst, "mistakes.png", class_names=MNIST_CLASSES)

The course's procedure (Structuring Machine Learning Projects, week 2): take ~100 mislabeled
dev examples, count what went wrong in each, and work on the categories that would remove the
most errors. The most confident mistakes are the place to start: either the model learned
something wrong, or the label is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ops.activation import sigmoid_array, softmax_array
from ..tensor import to_numpy
from ..train import metrics
from . import _plot

__all__ = ["Mistake", "most_confident_mistakes", "plot_mistakes", "plot_confusion_matrix",
           "top_confusions"]


@dataclass(frozen=True)
class Mistake:
    """A misclassified example: its index, the true and predicted class, and the probability
    the model gave its (wrong) prediction."""

    index: int
    true: int
    predicted: int
    confidence: float


def _probabilities(out: np.ndarray, from_logits, who: str) -> np.ndarray:
    """(m, C) class probabilities from logits (a softmax; a sigmoid for one score per example)
    or from probabilities (as they are); (m,)/(m, 1) become two columns. Which of the two the
    outputs are is said by from_logits, never read off the values: a logit may lie in [0, 1]."""
    if from_logits is None:
        raise ValueError(f"{who}: pass from_logits=True for logits (e.g. what predict() gives for "
                         f"a model trained with F.cross_entropy or "
                         f"F.binary_cross_entropy_with_logits) or from_logits=False for "
                         f"probabilities (a model ending in a softmax or sigmoid)")
    metrics.binary_threshold(from_logits, who)  # a clear error for anything but True/False
    out = out.astype(np.float64, copy=False)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim == 1:
        p = sigmoid_array(out) if from_logits else out
        return np.stack([1.0 - p, p], axis=1)
    if out.ndim != 2:
        raise ValueError(f"{who}: expected outputs (m, C), (m,) or (m, 1), got {out.shape}")
    return softmax_array(out, axis=1) if from_logits else out


def most_confident_mistakes(outputs, y, k: int = 16, from_logits: bool | None = None) -> list[Mistake]:
    """The k misclassified examples the model was surest about, surest first.

    outputs: the model's outputs for the examples, (m, C) scores, or one score per example
    (m,)/(m, 1) for binary tasks. from_logits: True when they are logits (softmax, or sigmoid
    for one score, gives the confidence), False when they are probabilities; it must be said.
    y: the true labels (m,) or one-hot rows.
    """
    P = _probabilities(to_numpy(outputs), from_logits, "most_confident_mistakes")
    t = metrics.to_labels(to_numpy(y))
    if len(t) != len(P):
        raise ValueError(f"most_confident_mistakes: {len(P)} outputs but {len(t)} labels")
    pred = P.argmax(axis=1)
    conf = P[np.arange(len(P)), pred]
    wrong = np.flatnonzero(pred != t)
    order = wrong[np.argsort(-conf[wrong], kind="stable")][:k]
    return [Mistake(int(i), int(t[i]), int(pred[i]), float(conf[i])) for i in order]


def plot_mistakes(images, mistakes, path="mistakes.png", class_names=None, ncols: int = 8):
    """The mistakes as an image grid (gradwise.datasets.show), each titled with its prediction,
    confidence and truth; returns the path."""
    from ..datasets import show

    if not mistakes:
        raise ValueError("plot_mistakes: no mistakes to show")
    x = to_numpy(images)

    def name(c):
        return str(class_names[c]) if class_names is not None and 0 <= c < len(class_names) else str(c)

    labels = [f"{name(m.predicted)} {m.confidence:.0%}\n(true {name(m.true)})" for m in mistakes]
    return show(x[[m.index for m in mistakes]], labels, path=path, ncols=ncols,
                max_images=len(mistakes), title="most confident mistakes: prediction (true class)")


def _predicted_labels(y_pred, from_logits, who: str) -> np.ndarray:
    """Labels from labels, (m, C) scores (argmax) or one score per example (a threshold: 0 for
    logits, 0.5 for probabilities, so from_logits must be said)."""
    y_pred = to_numpy(y_pred)
    if y_pred.dtype.kind == "f" and metrics.one_score(y_pred.shape):
        return metrics.to_labels(y_pred, metrics.binary_threshold(from_logits, who))
    return metrics.to_labels(y_pred)


def _matrix(y_true, y_pred, num_classes, from_logits, who):
    t, p = metrics.to_labels(to_numpy(y_true)), _predicted_labels(y_pred, from_logits, who)
    if num_classes is None:
        num_classes = max(2, int(max(t.max(initial=0), p.max(initial=0))) + 1)
    return metrics.confusion_matrix(t, p, num_classes)


def top_confusions(y_true, y_pred, class_names=None, k: int = 5, num_classes=None,
                   from_logits: bool | None = None) -> list[dict]:
    """The k commonest (true, predicted) mix-ups, with their count and share of all errors.
    y_pred: labels, (m, C) scores, or one score per example with from_logits said."""
    cm = _matrix(y_true, y_pred, num_classes, from_logits, "top_confusions")
    off = cm.copy()
    np.fill_diagonal(off, 0)
    errors = int(off.sum())
    flat = np.argsort(-off, axis=None, kind="stable")[:k]
    out = []
    for f in flat:
        i, j = divmod(int(f), cm.shape[1])
        if off[i, j] == 0:
            break
        out.append({"true": class_names[i] if class_names is not None else i,
                    "predicted": class_names[j] if class_names is not None else j,
                    "count": int(off[i, j]), "share_of_errors": off[i, j] / errors})
    return out


def plot_confusion_matrix(y_true, y_pred, path="confusion.png", class_names=None,
                          normalize: bool = False, num_classes=None, title=None,
                          from_logits: bool | None = None):
    """The confusion matrix (rows: true class, columns: predicted) as a heat map with its
    counts (or, normalize=True, each row's fractions: the per-class recall on the diagonal);
    returns the path. y_pred: labels, (m, C) scores, or one score per example with
    from_logits said (threshold 0 for logits, 0.5 for probabilities)."""
    cm = _matrix(y_true, y_pred, num_classes, from_logits, "plot_confusion_matrix")
    C = len(cm)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    side = max(3.6, 0.45 * C + 1.6)
    fig, (ax,) = _plot.figure(1, size=(side + 0.8, side))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(int(cm.max()), 1))
    fig.colorbar(im, ax=ax, shrink=0.8)
    names = [str(c) for c in (class_names if class_names is not None else range(C))]
    ax.set_xticks(range(C), names, rotation=45 if max(map(len, names)) > 2 else 0, fontsize=8)
    ax.set_yticks(range(C), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if C <= 20:  # the numbers stay readable up to about twenty classes
        limit = shown.max() / 2 if shown.max() > 0 else 0.5
        for i in range(C):
            for j in range(C):
                text = f"{shown[i, j]:.2f}" if normalize else str(int(cm[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if shown[i, j] > limit else "black")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {acc:.1%})", fontsize=10)
    return _plot.save(fig, path)
