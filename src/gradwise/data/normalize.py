"""Normalizing inputs: fit the statistics on the training set, apply them everywhere.

The course's rule: compute mu and sigma^2 on the training set only and use the *same* values
to normalize dev and test data (and at prediction time), so all sets pass through one map.
Both classes keep their statistics in a state_dict of plain arrays, to be saved beside the
model's and restored with it::

    scaler = Standardizer().fit(X_train)
    gradwise.save({"model": model.state_dict(), "scaler": scaler.state_dict()}, "run.npz")
    state = gradwise.load("run.npz")
    model.load_state_dict(state["model"]); scaler = Standardizer().load_state_dict(state["scaler"])
"""
from __future__ import annotations

import numpy as np

from ..tensor import to_numpy


def _float_dtype(X: np.ndarray):
    """Float inputs keep their precision; integer images (uint8 pixels) become float32."""
    return X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)


def _scale(var: np.ndarray, mean: np.ndarray, eps: float) -> np.ndarray:
    """sqrt(sigma^2 + eps), but 1 where the feature is constant on the training set.

    A constant feature (MNIST's border pixels are always 0) is only centred, as scikit-learn's
    StandardScaler does: dividing by sqrt(eps) would turn a tiny difference in a dev example
    into a value of thousands.
    """
    std = np.sqrt(var)
    tiny = 10 * np.finfo(std.dtype).eps * np.maximum(1.0, np.abs(mean))
    return np.where(std <= tiny, 1.0, np.sqrt(var + eps)).astype(var.dtype)


class Standardizer:
    """x -> (x - mu) / sqrt(sigma^2 + eps), with mu and sigma^2 fitted on the training set.

    axis: the axes the statistics are taken over; 0 (default) gives one mu and sigma^2 per
    feature of (N, D) data, (0, 2, 3) one per channel of NCHW images. sigma^2 is the biased
    (population) variance, as the course and batch norm compute it. Integer inputs come out
    float32, float inputs keep their dtype.
    """

    def __init__(self, axis=0, eps: float = 1e-8):
        self.axis = tuple(axis) if isinstance(axis, (tuple, list)) else int(axis)
        self.eps = float(eps)
        self.mean = self.var = self.scale = None

    def fit(self, X) -> Standardizer:
        X = to_numpy(X)
        if X.ndim == 0 or len(X) == 0:
            raise ValueError(f"Standardizer.fit: empty training set (shape {X.shape})")
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        if any(not -X.ndim <= a < X.ndim for a in axes):
            raise ValueError(f"Standardizer.fit: axis {self.axis} out of range for data of shape {X.shape}")
        dtype = _float_dtype(X)
        self.mean = X.mean(axis=self.axis, keepdims=True).astype(dtype)
        self.var = X.var(axis=self.axis, keepdims=True).astype(dtype)
        self.scale = _scale(self.var, self.mean, self.eps)
        return self

    def _check(self, X: np.ndarray, name: str) -> None:
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{name}: call fit(X_train) first")
        fitted = self.mean.shape
        if X.ndim != len(fitted) or any(f not in (1, x) for f, x in zip(fitted[1:], X.shape[1:])):
            raise ValueError(f"Standardizer.{name}: fitted on examples of shape "
                             f"{_example_shape(fitted)} (statistics {fitted}), got data of shape {X.shape}")

    def transform(self, X) -> np.ndarray:
        X = to_numpy(X)
        self._check(X, "transform")
        return ((X - self.mean) / self.scale).astype(_float_dtype(X), copy=False)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        Z = to_numpy(Z)
        self._check(Z, "inverse_transform")
        return (Z * self.scale + self.mean).astype(_float_dtype(Z), copy=False)

    def __call__(self, X, rng=None):
        """As a DataLoader transform: the same map for every batch (rng is unused)."""
        return self.transform(X)

    def state_dict(self) -> dict:
        """The fitted statistics as plain arrays and numbers, for gradwise.save."""
        if self.mean is None:
            raise RuntimeError("Standardizer.state_dict: nothing fitted yet; call fit(X_train) first")
        return {"mean": self.mean.copy(), "var": self.var.copy(), "eps": self.eps,
                "axis": list(self.axis) if isinstance(self.axis, tuple) else self.axis}

    def load_state_dict(self, state: dict) -> Standardizer:
        missing = [k for k in ("mean", "var") if k not in state]
        if missing:
            raise KeyError(f"Standardizer.load_state_dict: missing {missing}; got keys {sorted(state)}")
        mean, var = np.asarray(state["mean"]), np.asarray(state["var"])
        if mean.shape != var.shape:
            raise ValueError(f"Standardizer.load_state_dict: mean {mean.shape} and var {var.shape} differ in shape")
        self.mean, self.var = mean, var
        self.eps = float(state.get("eps", self.eps))
        if "axis" in state:
            axis = state["axis"]
            self.axis = tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.scale = _scale(self.var, self.mean, self.eps)
        return self

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean is None else f"fitted on examples {_example_shape(self.mean.shape)}"
        return f"Standardizer(axis={self.axis}, eps={self.eps}, {fitted})"


def _example_shape(stats_shape: tuple) -> tuple:
    return tuple(stats_shape[1:])


class Normalize:
    """Per-channel (x - mean[c]) / std[c] for NCHW image batches, as torchvision's Normalize.

    Give the values (e.g. ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225)
    for images in [0, 1]) or fit them on the training images with ``Normalize().fit(X_train)``
    (std is the population standard deviation per channel).
    """

    def __init__(self, mean=None, std=None):
        if (mean is None) != (std is None):
            raise ValueError("Normalize: give both mean and std, or neither (and call fit)")
        self.mean = self.std = None
        if mean is not None:
            self._set(mean, std)

    def _set(self, mean, std) -> None:
        mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        std = np.asarray(std, dtype=np.float32).reshape(-1)
        if mean.shape != std.shape:
            raise ValueError(f"Normalize: {mean.size} means but {std.size} stds")
        if (std <= 0).any():
            raise ValueError(f"Normalize: std must be positive, got {std.tolist()}")
        self.mean, self.std = mean.reshape(1, -1, 1, 1), std.reshape(1, -1, 1, 1)

    def fit(self, X) -> Normalize:
        X = to_numpy(X)
        if X.ndim != 4 or len(X) == 0:
            raise ValueError(f"Normalize.fit: expected a non-empty NCHW batch, got shape {X.shape}")
        std = X.std(axis=(0, 2, 3))
        self._set(X.mean(axis=(0, 2, 3)), np.where(std > 0, std, 1.0))
        return self

    def __call__(self, X, rng=None):
        if self.mean is None:
            raise RuntimeError("Normalize: give mean and std, or call fit(X_train) first")
        X = to_numpy(X)
        if X.ndim != 4 or X.shape[1] != self.mean.shape[1]:
            raise ValueError(f"Normalize: expected NCHW with {self.mean.shape[1]} channels, got {X.shape}")
        return ((X - self.mean) / self.std).astype(_float_dtype(X), copy=False)

    def state_dict(self) -> dict:
        if self.mean is None:
            raise RuntimeError("Normalize.state_dict: no mean and std yet; give them or call fit")
        return {"mean": self.mean.reshape(-1).copy(), "std": self.std.reshape(-1).copy()}

    def load_state_dict(self, state: dict) -> Normalize:
        self._set(state["mean"], state["std"])
        return self

    def __repr__(self) -> str:
        if self.mean is None:
            return "Normalize(unfitted)"
        return f"Normalize(mean={self.mean.reshape(-1).tolist()}, std={self.std.reshape(-1).tolist()})"
