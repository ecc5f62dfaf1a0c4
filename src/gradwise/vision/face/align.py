"""Face alignment: the aligned 150 x 150 chip that dlib's face network expects, cut from a
photo given the 5 landmarks of the face (dlib's get_face_chip(img, shape, 150, 0.25)).

    chip = align(image, landmarks)        # image (H, W, 3) uint8; landmarks (5, 2) as (x, y)

The 5 landmarks, as dlib's shape_predictor_5_face_landmarks numbers them: the outer and
inner corner of one eye (0, 1), of the other eye (2, 3), the base of the nose (4). The
chip is the similarity transform (rotation, scale, shift) that carries dlib's mean face
shape, padded by 25% on every side, onto the landmarks in the least-squares sense, then
the chip's pixels are read from the photo by bilinear interpolation (black outside).

One difference: when the face is more than twice the chip's size, dlib first halves the
photo with its Gaussian image pyramid before the bilinear read; here the read is made on a
box-filtered copy halved as often, so such a chip differs from dlib's by a few grey levels
(on Grace Hopper's photo scaled up twice: 3 on average; her descriptor moves by 0.03,
against the 0.6 threshold).
"""
from __future__ import annotations

import numpy as np

# dlib's mean positions of the 5 landmarks in a face chip of size 1 without padding
# (dlib/image_transforms/interpolation.h, get_face_chip_details)
MEAN_FACE_5 = np.array([
    [0.8595674595992, 0.2134981538014],
    [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848],
    [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475],
])


def similarity_transform(src, dst):
    """(A, t) with A = c R (scale times rotation) minimizing sum ||A src_i + t - dst_i||^2:
    Umeyama's least-squares similarity (points as rows (n, 2), (x, y))."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    S, D = src - mu_s, dst - mu_d
    var_s = (S ** 2).sum(1).mean()
    cov = D.T @ S / len(src)
    U, d, Vt = np.linalg.svd(cov)
    sign = np.ones(2)
    det = np.linalg.det(cov)
    if det < 0 or (det == 0 and np.linalg.det(U) * np.linalg.det(Vt) < 0):
        sign[1] = -1.0                  # a reflection fits better: take the best rotation
    R = U @ np.diag(sign) @ Vt
    c = (d * sign).sum() / var_s if var_s > 0 else 1.0
    return c * R, mu_d - c * R @ mu_s


def chip_box(landmarks, size: int = 150, padding: float = 0.25):
    """(center, width, angle) of the square in the photo that becomes the chip: the mean face
    shape of a size x size chip, padded by `padding` of the face on every side, carried onto
    the landmarks."""
    P = _landmarks(landmarks)
    template = (padding + MEAN_FACE_5) / (2 * padding + 1) * size
    A, t = similarity_transform(template, P)
    p = A @ [1.0, 0.0]
    center = A @ [size / 2.0, size / 2.0] + t
    return center, size * float(np.hypot(*p)), float(np.arctan2(p[1], p[0]))


def align(image, landmarks, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """The aligned face chip (size, size, 3) uint8 of an RGB photo (H, W, 3) uint8 from the
    face's 5 landmarks (5, 2) as (x, y) pixels: dlib's get_face_chip(image, shape, size,
    padding)."""
    image = _rgb(image)
    if size < 1 or padding < 0:
        raise ValueError(f"align: size must be positive and padding >= 0, got {size}, {padding}")
    center, width, angle = chip_box(landmarks, size, padding)
    level = 0
    while (width / 2 ** (level + 1)) ** 2 > size * size:    # dlib: halve while still too big
        level += 1
    for _ in range(level):
        image = _halve(image)
    scale = 2.0 ** -level
    # dlib's drectangle of that width about the center has corners at center -+ (w - 1) / 2
    half = (width * scale - 1) / 2
    cx, cy = center * scale - (0.5 - 0.5 * scale) * (level > 0)
    c, s = np.cos(angle), np.sin(angle)
    # chip pixel (u, v) in [0, size-1]^2 -> the rotated square's corners, linearly
    u = np.arange(size) * (2 * half / (size - 1)) - half if size > 1 else np.zeros(1)
    U, V = np.meshgrid(u, u)
    X = cx + c * U - s * V
    Y = cy + s * U + c * V
    return bilinear(image, X, Y)


def bilinear(image: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """image read at (X, Y) by bilinear interpolation, truncated to uint8 as dlib's
    assign_pixel does; 0 where a 2x2 neighbourhood leaves the image."""
    H, W = image.shape[:2]
    x0, y0 = np.floor(X).astype(np.int64), np.floor(Y).astype(np.int64)
    inside = (x0 >= 0) & (y0 >= 0) & (x0 + 1 < W) & (y0 + 1 < H)
    x0, y0 = np.where(inside, x0, 0), np.where(inside, y0, 0)
    fx, fy = (X - x0)[..., None], (Y - y0)[..., None]
    img = image.astype(np.float64)
    top = (1 - fx) * img[y0, x0] + fx * img[y0, x0 + 1]
    bottom = (1 - fx) * img[y0 + 1, x0] + fx * img[y0 + 1, x0 + 1]
    out = np.clip((1 - fy) * top + fy * bottom, 0, 255).astype(np.uint8)
    out[~inside] = 0
    return out


def _halve(image: np.ndarray) -> np.ndarray:
    """The image at half the size, each pixel the mean of a 2x2 box."""
    H, W = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    x = image[:H, :W].astype(np.float64)
    return np.round((x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4).astype(np.uint8)


def _rgb(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"align: expected an RGB image (H, W, 3), got {image.shape}")
    if image.dtype != np.uint8:
        if image.dtype.kind == "f" and image.size and image.max() <= 1.0:
            image = image * 255.0            # gradwise's float images in [0, 1]
        image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return image


def _landmarks(landmarks) -> np.ndarray:
    P = np.asarray(landmarks, dtype=np.float64)
    if P.shape != (5, 2) or not np.isfinite(P).all():
        raise ValueError(f"align: expected the 5 landmarks as (5, 2) (x, y) pixels, got {P.shape}")
    return P
