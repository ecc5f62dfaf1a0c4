"""The lab's figures: decision boundaries over 2-D data and cost curves (matplotlib, Agg).

Figures are drawn on an explicit Figure object (never pyplot's global state), so the lab
runs headless and in threads; run.savefig writes them atomically.
"""
from __future__ import annotations

import numpy as np

POINT_COLOURS = ["#c62828", "#1f4e9c"]     # class 0 red, class 1 blue
REGION_COLOURS = ["#f6c1bd", "#bcd0f0"]    # the same, light


def figure(ncols: int = 1, nrows: int = 1, size=(4.2, 3.4)):
    """A Figure with a grid of axes (always a flat array), sized per panel."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.reshape(-1)


def decision_boundary(ax, predict, X, y, title: str = "", step: float | None = None,
                      margin: float = 1.0, xlim=None, ylim=None) -> None:
    """Colour the plane by predict(points (k, 2)) -> labels (k,) and scatter the data on it,
    as the course's plot_decision_boundary: red for class 0, blue for class 1."""
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=np.float64)
    x0, x1 = xlim or (X[:, 0].min() - margin, X[:, 0].max() + margin)
    y0, y1 = ylim or (X[:, 1].min() - margin, X[:, 1].max() + margin)
    step = step or max(x1 - x0, y1 - y0) / 400
    xx, yy = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    grid = np.c_[xx.ravel(), yy.ravel()]
    zz = np.asarray(predict(grid)).reshape(xx.shape)
    ax.contourf(xx, yy, zz, levels=[-0.5, 0.5, 1.5], colors=REGION_COLOURS)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).reshape(-1), cmap=ListedColormap(POINT_COLOURS),
               vmin=0, vmax=1, s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if title:
        ax.set_title(title, fontsize=9)


def cost_curve(ax, costs: dict, label: str = "", title: str = "", xlabel: str = "iteration",
               logy: bool = False, **style) -> None:
    """Plot {iteration: cost}; inf/NaN points are left out (the line breaks there)."""
    its = np.array(sorted(costs), dtype=np.float64)
    vals = np.array([costs[i] for i in sorted(costs)], dtype=np.float64)
    vals[~np.isfinite(vals)] = np.nan
    ax.plot(its, vals, label=label or None, **style)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cost")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title, fontsize=9)
    if label:
        ax.legend(fontsize=8)


def moving_average(values, window: int = 21) -> np.ndarray:
    """A centred moving average of `window` points, over fewer at the two ends."""
    v = np.asarray(values, dtype=np.float64)
    half = window // 2
    c = np.concatenate([[0.0], np.cumsum(v)])
    idx = np.arange(len(v))
    lo, hi = np.clip(idx - half, 0, len(v)), np.clip(idx + half + 1, 0, len(v))
    return (c[hi] - c[lo]) / (hi - lo)


def loss_curves(ax, losses: dict, title: str = "", ylim=None, window: int = 21,
                markers: str = "osDx^v") -> None:
    """Plot {name: per-iteration losses}, each smoothed by a moving average of `window`
    iterations (raw mini-batch losses are too noisy to compare), as the book plots them."""
    for (name, values), marker in zip(losses.items(), markers * len(losses)):
        ax.plot(np.arange(1, len(values) + 1), moving_average(values, window), marker=marker,
                markevery=max(1, len(values) // 10), ms=4, lw=1.2, label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
