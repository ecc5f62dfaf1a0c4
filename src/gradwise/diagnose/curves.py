"""Learning curves: error against the training-set size and against the epochs.

    curve = learning_curve(lambda: mlp(), F.cross_entropy, lambda p: optim.Adam(p, lr=1e-2),
                           (X_train, y_train), (X_dev, y_dev), sizes=(0.1, 0.3, 1.0), epochs=30)
    history = fit(model, ..., val_data=(X_dev, y_dev), metrics=["accuracy"])
    plot_learning_curves([curve, epoch_curve(history)], "curves.png", human_error=0.0)

Read them as the course does: a training error far above human level is avoidable bias
(more data will not help: both curves flatten high); a wide gap between the training and the
dev curve is variance (more data usually helps: the dev curve still falls as the size grows).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import backend
from ..train import fit
from . import _plot
from .bias_variance import _pair, diagnose, error_rate

__all__ = ["LearningCurve", "learning_curve", "epoch_curve", "plot_learning_curves"]


@dataclass
class LearningCurve:
    """Training and dev error (or loss) at each x: training-set sizes or epochs."""

    x: list
    train: list
    dev: list
    xlabel: str
    ylabel: str = "error"
    details: list = field(default_factory=list)  # one dict per point (sizes: the fit history)

    def diagnose(self, human_error=None, **kw):
        """diagnose() on the last point (the largest training set, or the last epoch)."""
        if self.ylabel != "error":
            raise ValueError(f"LearningCurve.diagnose: the curve holds {self.ylabel}, not an error rate")
        return diagnose(self.train[-1], self.dev[-1], human_error, **kw)

    def plot(self, ax, human_error=None, title: str | None = None) -> None:
        x = np.asarray(self.x, dtype=np.float64)
        ax.plot(x, self.train, marker="o", ms=4, color="#1f4e9c", label=f"training {self.ylabel}")
        if any(v is not None for v in self.dev):
            dev = np.array([np.nan if v is None else v for v in self.dev], dtype=np.float64)
            ax.plot(x, dev, marker="o", ms=4, color="#c62828", label=f"dev {self.ylabel}")
        if human_error is not None:
            ax.axhline(human_error, color="grey", ls="--", lw=1, label="human level")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        ax.set_title(title or f"{self.ylabel} vs {self.xlabel}", fontsize=10)
        ax.legend(fontsize=8)


def _size_list(sizes, m: int) -> list[int]:
    out = []
    for s in sizes:
        if isinstance(s, (float, np.floating)):
            if not 0.0 < s <= 1.0:
                raise ValueError(f"learning_curve: a fractional size must be in (0, 1], got {s}")
            n = max(1, int(round(float(s) * m)))
        elif isinstance(s, (int, np.integer)):
            if not 1 <= s <= m:
                raise ValueError(f"learning_curve: size {s} is outside [1, {m}] (the training set)")
            n = int(s)
        else:
            raise TypeError(f"learning_curve: sizes are fractions or counts, got {s!r}")
        out.append(n)
    if out != sorted(set(out)):
        raise ValueError(f"learning_curve: sizes must increase, got {out} examples")
    return out


def learning_curve(build, loss_fn, optimizer, train, dev, sizes=(0.1, 0.25, 0.5, 0.75, 1.0),
                   *, epochs: int = 10, batch_size: int = 32, error=None, seed: int = 0,
                   **fit_kwargs) -> LearningCurve:
    """Train a fresh model on growing subsets of `train` and measure the errors.

    build() -> a new model; optimizer(parameters) -> its optimizer (e.g.
    lambda p: optim.Adam(p, lr=1e-3)); sizes: fractions of the training set or counts,
    increasing. The subsets are nested (the first n of one seeded permutation), each run
    starts from gradwise.manual_seed(seed), so the points differ only in the data.
    error(model, (X, y)) -> float defaults to 1 - accuracy. Extra keywords go to fit().
    """
    X, y = _pair(train, "learning_curve: train")
    _pair(dev, "learning_curve: dev")
    score = error or error_rate
    sizes = _size_list(sizes, len(X))
    order = np.random.default_rng(seed).permutation(len(X))
    fit_kwargs.setdefault("verbose", 0)
    curve = LearningCurve([], [], [], "training-set size")
    for n in sizes:
        idx = order[:n]
        subset = (X[idx], y[idx])
        backend.manual_seed(seed)
        model = build()
        history = fit(model, loss_fn, optimizer(model.parameters()), subset, epochs=epochs,
                      batch_size=batch_size, seed=seed, **fit_kwargs)
        curve.x.append(n)
        curve.train.append(float(score(model, subset)))
        curve.dev.append(float(score(model, dev)))
        curve.details.append({"size": n, "history": history.history})
    return curve


def epoch_curve(history, metric: str | None = None) -> LearningCurve:
    """The curve of a fit() History: 1 - accuracy per epoch when 'accuracy' was recorded
    (metric='accuracy', the default when present), else the loss (metric='loss'); the dev
    curve from the val_ entries, when there was validation data."""
    h = getattr(history, "history", history)
    if not isinstance(h, dict) or "loss" not in h:
        raise TypeError("epoch_curve: expected a History from fit() (or its .history dict)")
    metric = metric or ("accuracy" if "accuracy" in h else "loss")
    if metric not in h:
        raise KeyError(f"epoch_curve: '{metric}' was not recorded; the history has {sorted(h)}")
    as_error = metric in ("accuracy", "precision", "recall", "f1")
    values = [1.0 - v for v in h[metric]] if as_error else list(h[metric])
    dev = h.get("val_" + metric)
    dev = ([1.0 - v for v in dev] if as_error else list(dev)) if dev else [None] * len(values)
    epochs = list(getattr(history, "epoch", None) or range(len(values)))
    return LearningCurve([e + 1 for e in epochs], values, dev, "epoch",
                         "error" if metric == "accuracy" else (f"1 - {metric}" if as_error else metric))


def plot_learning_curves(curves, path="learning_curves.png", human_error=None, title=None):
    """One panel per curve (a LearningCurve, or a History turned into its epoch curve), saved
    as a PNG; returns the path. human_error draws the human-level line on error panels."""
    if isinstance(curves, LearningCurve) or hasattr(curves, "history"):
        curves = [curves]
    curves = [c if isinstance(c, LearningCurve) else epoch_curve(c) for c in curves]
    if not curves:
        raise ValueError("plot_learning_curves: no curve to plot")
    fig, axes = _plot.figure(len(curves))
    for ax, c in zip(axes, curves):
        c.plot(ax, human_error if c.ylabel == "error" else None)
    if title:
        fig.suptitle(title)
    return _plot.save(fig, path)
