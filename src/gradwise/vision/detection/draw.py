"""Images in and out of a detector: reading any picture into the network's input, and
drawing the boxes found on it (Pillow).

    X, frame = prepare_image("photo.png", model.image_size)       # (1, 1, 64, 64) and the way back
    found = model.detect(X)[0]
    boxes = frame.to_image(found.boxes)                              # pixels of the original
    draw_detections(frame.original, boxes, found.scores, found.labels, model.class_names, "out.png")
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ...io import atomic_write
from ..image_files import open_rgb

__all__ = ["Frame", "prepare_image", "draw_detections", "save_png"]

# matplotlib's "tab10" colours, one per class (cycled beyond ten)
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")


@dataclass
class Frame:
    """How an image was fitted into the network's square input: padded to a square (at the
    right and bottom), then scaled by `scale` (network pixels per image pixel)."""

    original: Image.Image
    scale: float
    inverted: bool

    def to_image(self, boxes) -> np.ndarray:
        """Boxes in network pixels -> boxes in the original image's pixels (clipped to it)."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / self.scale
        w, h = self.original.size
        b[:, 0::2] = b[:, 0::2].clip(0, w)
        b[:, 1::2] = b[:, 1::2].clip(0, h)
        return b


def prepare_image(image, size: int, channels: int = 1, invert=None) -> tuple[np.ndarray, Frame]:
    """Any picture (a path or a PIL image) as the network's input (1, channels, size, size)
    float32 in [0, 1], and the Frame that maps boxes back.

    The detector learned bright digits on black; a picture that is mostly light (mean above
    one half: dark ink on paper) is inverted, unless `invert` says otherwise. Non-square
    pictures are padded with the background to a square first, so digits keep their shape.
    """
    original = (open_rgb(image, "prepare_image") if not isinstance(image, Image.Image)
                else image.convert("RGB"))
    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise ValueError(f"prepare_image: channels must be 1 or 3, got {channels}")
    x = np.asarray(original.convert(mode), dtype=np.float32) / 255.0
    if invert is None:
        invert = bool(x.mean() > 0.5)
    if invert:
        x = 1.0 - x
    h, w = x.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side) + x.shape[2:], dtype=np.float32)
    square[:h, :w] = x
    img = Image.fromarray(np.round(square * 255).astype(np.uint8))
    if side != size:
        img = img.resize((size, size), Image.BILINEAR)
    X = np.asarray(img, dtype=np.float32) / 255.0
    X = X[None, None] if X.ndim == 2 else X.transpose(2, 0, 1)[None]
    return np.ascontiguousarray(X), Frame(original, size / side, invert)


def _to_pil(a) -> Image.Image:
    a = np.asarray(a, dtype=np.float64)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"expected an image (H, W) or (H, W, 3) in [0, 1], got shape {a.shape}")
    return Image.fromarray(np.round(np.clip(a, 0, 1) * 255).astype(np.uint8))


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed bitmap font
        return ImageFont.load_default()


def draw_detections(image, boxes, scores, labels, class_names=None, path=None,
                    min_side: int = 384) -> Image.Image:
    """The image (a PIL image or an (H, W) / (H, W, 3) array in [0, 1]) with each box drawn
    in its class's colour and labelled "class score". Small images are enlarged (nearest
    neighbour, so pixels stay sharp) until their shorter side is at least `min_side`.
    Writes a PNG to `path` atomically when given; returns the drawing."""
    if not isinstance(image, Image.Image):
        image = _to_pil(image)
    image = image.convert("RGB")
    k = max(1, int(np.ceil(min_side / min(image.size))))
    canvas = image.resize((image.width * k, image.height * k), Image.NEAREST)
    pen = ImageDraw.Draw(canvas)
    font = _font(max(12, min(canvas.size) // 24))
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * k
    for (x1, y1, x2, y2), s, c in zip(boxes, np.asarray(scores), np.asarray(labels)):
        color = COLORS[int(c) % len(COLORS)]
        pen.rectangle([x1, y1, x2, y2], outline=color, width=max(2, k // 3))
        name = class_names[int(c)] if class_names is not None else str(int(c))
        text = f"{name} {float(s):.2f}"
        left, top, right, bottom = pen.textbbox((0, 0), text, font=font)
        ty = y1 - (bottom - top) - 4 if y1 - (bottom - top) - 4 >= 0 else y2 + 1
        pen.rectangle([x1, ty, x1 + right - left + 4, ty + bottom - top + 4], fill=color)
        pen.text((x1 + 2 - left, ty + 2 - top), text, fill="white", font=font)
    if path is not None:
        save_png(canvas, path)
    return canvas


def save_png(image, path) -> Path:
    """A PIL image, or an array (H, W) / (H, W, 3) in [0, 1], written as a PNG atomically:
    to a temporary file beside the target, then renamed over it."""
    if not isinstance(image, Image.Image):
        image = _to_pil(image)
    return atomic_write(path, lambda f: image.save(f, format="PNG"))
