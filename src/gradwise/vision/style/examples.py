"""Images to try style transfer on: a house to paint, and a mosaic to paint it in."""
from __future__ import annotations

import numpy as np


def example_content(size: int = 128) -> np.ndarray:
    """A synthetic content image (size, size, 3): a house with a red roof, a door and two
    windows, a sun, on a sky-to-grass background. Shapes with clear edges, so that one can
    see what of them the transfer keeps."""
    n = int(size)
    y, x = np.mgrid[0:n, 0:n] / n
    img = np.empty((n, n, 3))
    img[...] = np.where((y < 0.7)[..., None], [0.55, 0.75, 0.95], [0.35, 0.65, 0.25])
    img[(x - 0.8) ** 2 + (y - 0.18) ** 2 < 0.01] = [1.0, 0.85, 0.2]               # sun
    wall = (x > 0.25) & (x < 0.7) & (y > 0.45) & (y < 0.8)
    img[wall] = [0.9, 0.85, 0.7]
    roof = (y > 0.22) & (y <= 0.45) & (np.abs(x - 0.475) < (y - 0.22) * 1.25)
    img[roof] = [0.75, 0.15, 0.1]
    img[(x > 0.42) & (x < 0.53) & (y > 0.6) & (y < 0.8)] = [0.4, 0.25, 0.1]        # door
    for x0 in (0.3, 0.57):                                                          # windows
        img[(x > x0) & (x < x0 + 0.08) & (y > 0.52) & (y < 0.6)] = [0.2, 0.3, 0.5]
    return img.astype(np.float32)


def example_style(size: int = 128, seed: int = 0) -> np.ndarray:
    """A synthetic style image (size, size, 3): a mosaic of Voronoi cells in a blue, yellow
    and orange palette, each cell with its own stripes, separated by dark joints, so that
    colours, strokes and edges of the style are easy to recognize in the output."""
    n = int(size)
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, n, (max(8, (n // 16) ** 2), 2))
    y, x = np.mgrid[0:n, 0:n]
    d = (y[..., None] - pts[:, 0]) ** 2 + (x[..., None] - pts[:, 1]) ** 2
    order = np.sort(d, axis=-1)
    cell = d.argmin(axis=-1)
    palette = np.array([[0.1, 0.2, 0.55], [0.2, 0.45, 0.8], [0.95, 0.8, 0.2],
                        [0.95, 0.5, 0.1], [0.15, 0.35, 0.3]])
    colour = palette[rng.integers(len(palette), size=len(pts))][cell]
    angle = rng.uniform(0, np.pi, len(pts))[cell]
    stripes = 0.5 + 0.5 * np.sin((x * np.cos(angle) + y * np.sin(angle)) * 0.9)
    img = colour * (0.75 + 0.25 * stripes[..., None])
    joint = np.sqrt(order[..., 1]) - np.sqrt(order[..., 0]) < 1.5
    img[joint] = [0.05, 0.05, 0.08]
    return np.clip(img, 0, 1).astype(np.float32)
