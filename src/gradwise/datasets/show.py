"""Look at a dataset: a grid of images with their labels as titles, saved as a PNG.

matplotlib is imported lazily and used through its object API on the Agg canvas (no pyplot,
no global figure state, no display needed).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..io import save_figure

__all__ = ["show"]


def _as_images(images) -> np.ndarray:
    """To (N, H, W) grayscale or (N, H, W, 3) RGB."""
    if not isinstance(images, np.ndarray) and hasattr(images, "numpy"):
        images = images.numpy()          # a gradwise / torch tensor
    x = np.asarray(images)
    if x.ndim == 2:                      # (N, D) flattened squares, e.g. (N, 784)
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"show: cannot unflatten rows of {x.shape[1]} values into a square image")
        return x.reshape(x.shape[0], side, side)
    if x.ndim == 3:                      # (N, H, W)
        return x
    if x.ndim == 4:
        if x.shape[1] == 1:              # (N, 1, H, W)
            return x[:, 0]
        if x.shape[-1] == 3:             # (N, H, W, 3)
            return x
        if x.shape[1] == 3:              # (N, 3, H, W)
            return x.transpose(0, 2, 3, 1)
        if x.shape[-1] == 1:             # (N, H, W, 1)
            return x[..., 0]
    raise ValueError(f"show: expected (N, D), (N, H, W), (N, 1, H, W), (N, H, W, 3) or "
                     f"(N, 3, H, W) images, got shape {x.shape}")


def _label_text(label, class_names) -> str:
    label = np.asarray(label)
    if label.ndim == 1 and label.size > 1:   # a one-hot (or probability) row
        label = label.argmax()
    value = label.item() if label.ndim == 0 else label
    if isinstance(value, (bytes, np.bytes_)):
        value = value.decode("utf-8")
    if class_names is not None and isinstance(value, (int, np.integer, float)) and float(value).is_integer():
        i = int(value)
        if 0 <= i < len(class_names):
            return f"{class_names[i]}"
    return str(value)


def _display_range(x: np.ndarray):
    if x.dtype == np.uint8:
        return 0.0, 255.0
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if lo >= 0.0 and hi <= 255.0 and hi > 1.0:
        return 0.0, 255.0
    return lo, hi if hi > lo else lo + 1.0


def show(images, labels=None, path="samples.png", ncols: int = 8, class_names=None,
         max_images: int = 64, title=None, cmap: str = "gray") -> Path:
    """Save a grid of up to ``max_images`` images to ``path`` (PNG, written atomically).

    images: (N, 784)-like flattened squares, (N, H, W), (N, 1, H, W), (N, H, W, 3) or
    (N, 3, H, W); uint8 (0..255) or float (shown as [0, 1] when it fits, else min..max).
    labels: ints, one-hot rows or strings, used as titles (mapped through ``class_names``).
    Returns the path written.
    """
    from matplotlib.figure import Figure  # lazily; Figure.savefig uses the Agg canvas

    x = _as_images(images)
    n = min(len(x), int(max_images))
    if n == 0:
        raise ValueError("show: no images to show")
    if labels is not None and len(labels) < n:
        raise ValueError(f"show: {len(labels)} labels for {n} images")
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    vmin, vmax = _display_range(x[:n])

    fig = Figure(figsize=(1.4 * ncols, 1.4 * nrows + (0.4 if title else 0.0)), dpi=100)
    for i in range(n):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        img = x[i]
        if img.ndim == 3:  # RGB: imshow wants floats in [0, 1] or uint8
            if img.dtype != np.uint8:
                img = np.clip((img.astype(np.float64) - vmin) / (vmax - vmin), 0.0, 1.0)
            ax.imshow(img, interpolation="nearest")
        else:
            ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if labels is not None:
            ax.set_title(_label_text(labels[i], class_names), fontsize=8)
        ax.set_axis_off()
    if title:
        fig.suptitle(str(title))
    fig.tight_layout()

    return save_figure(fig, path)
