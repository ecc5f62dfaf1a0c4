"""Figures for the diagnosis and the search: matplotlib's object API on the Agg canvas (no
pyplot state, no display needed), saved atomically as PNG."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def figure(ncols: int = 1, nrows: int = 1, size=(4.6, 3.6)):
    """A Figure and its axes as a flat list, sized per panel."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.reshape(-1))


def save(fig, path) -> Path:
    """Write the figure to `path` as PNG through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
