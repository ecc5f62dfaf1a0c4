"""Figures for the diagnosis and the search: matplotlib's object API on the Agg canvas (no
pyplot state, no display needed), saved atomically as PNG."""
from __future__ import annotations

from pathlib import Path

from ..io import save_figure


def figure(ncols: int = 1, nrows: int = 1, size=(4.6, 3.6)):
    """A Figure and its axes as a flat list, sized per panel."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.reshape(-1))


def save(fig, path) -> Path:
    """Write the figure to `path` as PNG, atomically."""
    return save_figure(fig, path)
