"""Data augmentation for image batches (NCHW), vectorized over the batch.

Each transform is called as transform(X, rng) on a whole batch and draws its random choices
(one per image) from `rng`: a NumPy Generator, an int seed, or None for gradwise's generator
(gradwise.manual_seed). The DataLoader hands every batch its own generator, so a seeded run
augments identically every time. X is returned as a new array, never changed in place.

Flip and crop move pixels and keep the dtype; rotation, color shift and PCA color
augmentation compute new values, so integer (uint8) images come back float32 (convert to
[0, 1] floats first when the shift sizes are meant in that scale).
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np

from .. import backend


def _check_images(name: str, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"{name}: expected a batch of images (N, C, H, W), got shape {X.shape}")
    return X


def _rng(rng) -> np.random.Generator:
    if rng is None:
        return backend.rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"augmentation: rng must be None, an np.random.Generator or a non-negative "
                    f"int seed, got {rng!r}")


def takes_rng(fn) -> bool:
    """Whether fn can be called as fn(X, rng); a function of one argument is called as fn(X)."""
    try:
        inspect.signature(fn).bind(None, None)
        return True
    except TypeError:
        return False
    except ValueError:  # no signature to inspect (some builtins): assume the (X, rng) form
        return True


class Compose:
    """Apply transforms in order: Compose([RandomCrop(28, padding=2), RandomHorizontalFlip()]).

    All of them draw from the one generator given to the call; plain functions of one
    argument (e.g. ``lambda X: X / 255``) are called as f(X).
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        bad = [t for t in self.transforms if not callable(t)]
        if bad:
            raise TypeError(f"Compose: every transform must be callable, got {bad!r}")
        self._with_rng = [takes_rng(t) for t in self.transforms]

    def __call__(self, X, rng=None):
        rng = _rng(rng)
        for t, with_rng in zip(self.transforms, self._with_rng):
            X = t(X, rng) if with_rng else t(X)
        return X

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(type(t).__name__ for t in self.transforms) + "])"


class RandomHorizontalFlip:
    """Mirror each image left-right (reverse the W axis) with probability p, image by image."""

    def __init__(self, p: float = 0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def __call__(self, X, rng=None):
        X = _check_images("RandomHorizontalFlip", X)
        flip = _rng(rng).random(len(X)) < self.p
        out = X.copy()
        out[flip] = X[flip, :, :, ::-1]
        return out


class RandomCrop:
    """Zero-pad by `padding` pixels, then cut a size x size window at a random place per image."""

    def __init__(self, size, padding: int = 0, fill: float = 0.0):
        self.size = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be a positive int or (h, w), got {size!r}")
        if not isinstance(padding, numbers.Integral) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be a non-negative int, got {padding!r}")
        self.padding, self.fill = int(padding), fill

    def __call__(self, X, rng=None):
        X = _check_images("RandomCrop", X)
        p, (h, w) = self.padding, self.size
        padded = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        H, W = padded.shape[2:]
        if h > H or w > W:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image {(H, W)}")
        rng = _rng(rng)
        top = rng.integers(0, H - h + 1, len(X))
        left = rng.integers(0, W - w + 1, len(X))
        # all windows as a strided view (N, C, H-h+1, W-w+1, h, w); pick one per image
        windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))
        return windows[np.arange(len(X)), :, top, left].copy()


class RandomRotation:
    """Rotate each image by an angle drawn from U(-degrees, degrees) about its centre,
    with bilinear interpolation; pixels from outside the image take `fill`."""

    def __init__(self, degrees: float, fill: float = 0.0):
        if degrees < 0:
            raise ValueError(f"RandomRotation: degrees must be >= 0, got {degrees}")
        self.degrees, self.fill = float(degrees), fill

    def __call__(self, X, rng=None):
        X = _check_images("RandomRotation", X)
        theta = np.deg2rad(_rng(rng).uniform(-self.degrees, self.degrees, len(X)))
        return rotate(X, theta, self.fill)


def rotate(X: np.ndarray, theta, fill: float = 0.0) -> np.ndarray:
    """Rotate image i of X (N, C, H, W) counter-clockwise by theta[i] radians about its centre.

    Bilinear interpolation, same size out, `fill` outside the source image: the same numbers
    as scipy.ndimage.rotate(img, degrees, reshape=False, order=1, mode="grid-constant").
    """
    X = _check_images("rotate", X)
    N, C, H, W = X.shape
    dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
    theta = np.broadcast_to(np.asarray(theta, dtype=np.float64), (N,))
    cy, cx = (H - 1) / 2, (W - 1) / 2
    yy, xx = np.meshgrid(np.arange(H) - cy, np.arange(W) - cx, indexing="ij")
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    # inverse map: where in the source does each output pixel come from
    src_x = (cos * xx - sin * yy + cx).reshape(N, 1, H * W)
    src_y = (sin * xx + cos * yy + cy).reshape(N, 1, H * W)
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = (src_x - x0).astype(dtype), (src_y - y0).astype(dtype)
    # a one-pixel border of `fill` serves the corners that fall just outside the image;
    # each image is gathered as a flat row of (H+2)(W+2) pixels per channel
    padded = np.pad(X.astype(dtype, copy=False), ((0, 0), (0, 0), (1, 1), (1, 1)),
                    constant_values=fill).reshape(N, C, -1)

    def at(yi, xi):  # (N, C, H*W): the source pixel (yi, xi) for every output pixel
        flat = np.clip(yi + 1, 0, H + 1) * (W + 2) + np.clip(xi + 1, 0, W + 1)
        return np.take_along_axis(padded, flat, axis=2)

    out = ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
           + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))
    outside = (src_x < -1) | (src_x > W) | (src_y < -1) | (src_y > H)
    out = np.where(outside, np.asarray(fill, dtype=dtype), out)
    return out.reshape(N, C, H, W).astype(dtype, copy=False)


class ColorShift:
    """Add a random offset in U(-shift, shift) to each channel of each image (color shifting)."""

    def __init__(self, shift: float = 0.1):
        if shift < 0:
            raise ValueError(f"ColorShift: shift must be >= 0, got {shift}")
        self.shift = shift

    def __call__(self, X, rng=None):
        X = _check_images("ColorShift", X)
        offset = _rng(rng).uniform(-self.shift, self.shift, (len(X), X.shape[1], 1, 1))
        return (X + offset).astype(X.dtype if X.dtype.kind == "f" else np.float32, copy=False)


class PCAColorAugmentation:
    """AlexNet's "fancy PCA" color augmentation for RGB images.

    Fit: the eigenvectors p_i and eigenvalues lambda_i of the 3x3 covariance of the RGB
    pixel values of the training set. Each image gets, at every pixel, the shift
    [p1 p2 p3] [alpha_1 lambda_1, alpha_2 lambda_2, alpha_3 lambda_3]^T, alpha_i ~ N(0, std^2),
    one draw of alpha per image (Krizhevsky et al. 2012, section 4.1, std = 0.1). The
    shift is in the units of the pixels it was fitted on, so fit on the same scale you
    augment. Eigenvectors are the columns of ``eigenvectors`` (as np.linalg.eigh returns them).
    """

    def __init__(self, std: float = 0.1, eigenvalues=None, eigenvectors=None):
        if std < 0:
            raise ValueError(f"PCAColorAugmentation: std must be >= 0, got {std}")
        self.std = std
        self.eigenvalues = None if eigenvalues is None else np.asarray(eigenvalues, dtype=np.float64)
        self.eigenvectors = None if eigenvectors is None else np.asarray(eigenvectors, dtype=np.float64)
        if (self.eigenvalues is None) != (self.eigenvectors is None):
            raise ValueError("PCAColorAugmentation: give both eigenvalues and eigenvectors, or neither (and fit)")
        if self.eigenvalues is not None and (self.eigenvalues.shape != (3,) or self.eigenvectors.shape != (3, 3)):
            raise ValueError(f"PCAColorAugmentation: expected 3 eigenvalues and a 3x3 matrix of "
                             f"eigenvectors, got {self.eigenvalues.shape} and {self.eigenvectors.shape}")

    def fit(self, X) -> PCAColorAugmentation:
        X = _check_images("PCAColorAugmentation.fit", X)
        if X.shape[1] != 3:
            raise ValueError(f"PCAColorAugmentation: expected 3 color channels, got {X.shape[1]}")
        pixels = X.transpose(0, 2, 3, 1).reshape(-1, 3).astype(np.float64)
        self.eigenvalues, self.eigenvectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
        return self

    def __call__(self, X, rng=None):
        X = _check_images("PCAColorAugmentation", X)
        if self.eigenvalues is None:
            raise RuntimeError("PCAColorAugmentation: call fit(X_train) first (or give the eigen-pairs)")
        if X.shape[1] != 3:
            raise ValueError(f"PCAColorAugmentation: expected 3 color channels, got shape {X.shape}")
        alpha = _rng(rng).normal(0.0, self.std, (len(X), 3))
        shift = (alpha * self.eigenvalues) @ self.eigenvectors.T  # (N, 3): one RGB shift per image
        return (X + shift[:, :, None, None]).astype(X.dtype if X.dtype.kind == "f" else np.float32, copy=False)
