"""Normalizing inputs: fit the statistics on the training set, apply them everywhere.

The course's rule: compute mu and sigma^2 on the training set only and use the *same* values
to normalize dev and test data (and at prediction time), so all sets pass through one map.
"""
from __future__ import annotations

import numpy as np

from .dataset import _array


class Standardizer:
    """x -> (x - mu) / sqrt(sigma^2 + eps), mu and sigma^2 per feature (axis 0) or per
    channel for images (axis=(0, 2, 3))."""

    def __init__(self, axis=0, eps: float = 1e-8):
        self.axis, self.eps = axis, eps
        self.mean = self.var = None

    def fit(self, X) -> "Standardizer":
        X = _array(X)
        if len(X) == 0:
            raise ValueError("Standardizer.fit: empty training set")
        self.mean = X.mean(axis=self.axis, keepdims=True)
        self.var = X.var(axis=self.axis, keepdims=True)
        return self

    def _check(self):
        if self.mean is None:
            raise RuntimeError("Standardizer: call fit(X_train) before transform")

    def transform(self, X) -> np.ndarray:
        self._check()
        X = _array(X)
        if X.shape[1:] != self.mean.shape[1:] and self.mean.ndim == X.ndim:
            for ax in range(1, X.ndim):
                if self.mean.shape[ax] not in (1, X.shape[ax]):
                    raise ValueError(f"Standardizer: fitted on features {self.mean.shape[1:]}, got {X.shape[1:]}")
        out = (X - self.mean) / np.sqrt(self.var + self.eps)
        return out.astype(X.dtype if X.dtype.kind == "f" else np.float32, copy=False)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        self._check()
        return _array(Z) * np.sqrt(self.var + self.eps) + self.mean

    def __call__(self, X, rng=None):
        return self.transform(X)

    def state_dict(self) -> dict:
        """The fitted statistics, to be saved beside the model (gradwise.save)."""
        self._check()
        return {"mean": self.mean.copy(), "var": self.var.copy(), "eps": float(self.eps)}

    def load_state_dict(self, state: dict) -> "Standardizer":
        self.mean, self.var = np.asarray(state["mean"]), np.asarray(state["var"])
        self.eps = float(state.get("eps", self.eps))
        return self


class Normalize:
    """Per-channel (x - mean) / std for NCHW batches, with given mean and std (as torchvision)."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
        if (self.std <= 0).any():
            raise ValueError(f"Normalize: std must be positive, got {std}")

    def __call__(self, X, rng=None):
        X = _array(X)
        if X.ndim != 4 or X.shape[1] != self.mean.shape[1]:
            raise ValueError(f"Normalize: expected NCHW with {self.mean.shape[1]} channels, got {X.shape}")
        return (X - self.mean) / self.std

    def state_dict(self) -> dict:
        return {"mean": self.mean.reshape(-1), "std": self.std.reshape(-1)}
