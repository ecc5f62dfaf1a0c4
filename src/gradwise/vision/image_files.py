"""Reading and writing images (Pillow); files are written atomically (gradwise.io).

Images in memory are float32 arrays (H, W, 3) with values in [0, 1]; the networks take them
as (1, 3, H, W) (see `to_batch` / `from_batch`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import atomic_write


def open_rgb(path, who: str = "load_image"):
    """An image file (PNG, JPEG, ... anything Pillow reads) as a PIL RGB image: grey repeated
    over the three channels, an alpha channel composited on white. A missing file or one
    Pillow cannot read is an error that names it (`who` prefixes the message)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{who}: no image file '{path}'")
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                im = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im.alpha_composite(rgba)
            return im.convert("RGB")
    except UnidentifiedImageError:
        raise ValueError(f"{who}: '{path}' is not an image file Pillow can read") from None


def load_image(path, size=None) -> np.ndarray:
    """An image file (see open_rgb) as float32 (H, W, 3) in [0, 1].

    size: None keeps the image as it is; an int scales it so that its longer side has that
    many pixels; (H, W) resizes it to exactly that, cropping the centre first so that the
    aspect ratio is kept.
    """
    im = open_rgb(path)
    if size is not None:
        im = _resize(im, size)
    return np.asarray(im, dtype=np.float32) / np.float32(255.0)


def _resize(im, size):
    from PIL import Image

    w, h = im.size
    if isinstance(size, (int, np.integer)):
        if size < 1:
            raise ValueError(f"load_image: size must be positive, got {size}")
        scale = size / max(w, h)
        return im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    H, W = (int(s) for s in size)
    if H < 1 or W < 1:
        raise ValueError(f"load_image: size must be positive, got {size}")
    # the largest centred box with the target's aspect ratio, then scale it
    if w * H > h * W:                       # too wide: crop the sides
        cw = h * W / H
        box = ((w - cw) / 2, 0, (w + cw) / 2, h)
    else:                                   # too tall: crop top and bottom
        ch = w * H / W
        box = (0, (h - ch) / 2, w, (h + ch) / 2)
    return im.resize((W, H), Image.LANCZOS, box=box)


def save_image(image, path) -> Path:
    """Write an image (H, W, 3) or (H, W) with values in [0, 1] (clipped) as a PNG or JPEG
    (by the file's extension), atomically."""
    from PIL import Image

    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 3 and x.shape[0] in (1, 3) and x.shape[-1] not in (1, 3):
        raise ValueError(f"save_image: expected (H, W, 3) with channels last, got {x.shape}; "
                         f"use from_batch() for network tensors")
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[-1] == 3)):
        raise ValueError(f"save_image: expected an image (H, W, 3) or (H, W), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("save_image: the image holds NaN or infinity")
    path = Path(path)
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"save_image: write .png or .jpg, got '{path.name}'")
    im = Image.fromarray(np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8))
    return atomic_write(path, lambda f: im.save(f, format=fmt))


def to_batch(image: np.ndarray, dtype=np.float32) -> np.ndarray:
    """(H, W, 3) -> (1, 3, H, W)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"to_batch: expected an image (H, W, 3), got {image.shape}")
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=dtype)


def from_batch(X: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) -> (H, W, 3)."""
    X = np.asarray(X)
    if X.ndim != 4 or X.shape[0] != 1 or X.shape[1] != 3:
        raise ValueError(f"from_batch: expected one image (1, 3, H, W), got {X.shape}")
    return X[0].transpose(1, 2, 0)
