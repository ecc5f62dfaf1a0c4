"""Error analysis: look at the mistakes before deciding what to work on.

    out = predict(model, X_dev)
    plot_confusion_matrix(y_dev, out, "confusion.png", class_names=MNIST_CLASSES)
    top_confusions(y_dev, out, class_names=MNIST_CLASSES)       # the commonest mix-ups first
    worst = most_confident_mistakes(out, y_dev, k=16)
    plot_mistakes(X_dev, worst, "mistakes.png", class_names=MNIST_CLASSES)

The course's procedure (Structuring Machine Learning Projects, week 2): take ~100 mislabeled
dev examples, count what went wrong in each, and work on the categories that would remove the
most errors. The most confident mistakes are the place to start: either the model learned
something wrong, or the label is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def _array(x) -> np.ndarray:
    return x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else np.asarray(x)


def _probabilities(out: np.ndarray) -> np.ndarray:
    """(m, C) class probabilities from probabilities or logits; (m,)/(m, 1) become two columns."""
    out = out.astype(np.float64, copy=False)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim == 1:
        p = out if ((out >= 0) & (out <= 1)).all() else 1.0 / (1.0 + np.exp(-out))
        return np.stack([1.0 - p, p], axis=1)
    if out.ndim != 2:
        raise ValueError(f"most_confident_mistakes: expected outputs (m, C), (m,) or (m, 1), got {out.shape}")
    if ((out >= 0) & (out <= 1)).all() and np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        return out
    z = out - out.max(axis=1, keepdims=True)  # logits: a stable softmax
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def most_confident_mistakes(outputs, y, k: int = 16) -> list[Mistake]:
    """The k misclassified examples the model was surest about, surest first.

    outputs: the model's outputs for the examples (probabilities or logits (m, C); for binary
    tasks p or a logit (m,)/(m, 1), read as a probability when all values lie in [0, 1]).
    y: the true labels (m,) or one-hot rows.
    """
    from ..train import metrics

    P = _probabilities(_array(outputs))
    t = metrics.to_labels(_array(y))
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
    x = _array(images)

    def name(c):
        return str(class_names[c]) if class_names is not None and 0 <= c < len(class_names) else str(c)

    labels = [f"{name(m.predicted)} {m.confidence:.0%}\n(true {name(m.true)})" for m in mistakes]
    return show(x[[m.index for m in mistakes]], labels, path=path, ncols=ncols,
                max_images=len(mistakes), title="most confident mistakes: prediction (true class)")


def _matrix(y_true, y_pred, num_classes):
    from ..train import metrics

    t, p = metrics.to_labels(_array(y_true)), metrics.to_labels(_array(y_pred))
    if num_classes is None:
        num_classes = max(2, int(max(t.max(initial=0), p.max(initial=0))) + 1)
    return metrics.confusion_matrix(t, p, num_classes)


def top_confusions(y_true, y_pred, class_names=None, k: int = 5, num_classes=None) -> list[dict]:
    """The k commonest (true, predicted) mix-ups, with their count and share of all errors."""
    cm = _matrix(y_true, y_pred, num_classes)
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
                          normalize: bool = False, num_classes=None, title=None):
    """The confusion matrix (rows: true class, columns: predicted) as a heat map with its
    counts (or, normalize=True, each row's fractions: the per-class recall on the diagonal);
    returns the path."""
    cm = _matrix(y_true, y_pred, num_classes)
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
