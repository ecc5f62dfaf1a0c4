"""Distances between embeddings: the course's squared Euclidean distance on the unit sphere.

    d(x1, x2) = ||f(x1) - f(x2)||^2        in [0, 4] for unit embeddings
"""
from __future__ import annotations

from ...tensor import Tensor


def l2_normalize(Z: Tensor, eps: float = 1e-12) -> Tensor:
    """Z / ||Z|| row by row (last axis), so that embeddings lie on the unit sphere."""
    return Z / ((Z * Z).sum(axis=-1, keepdims=True) + eps).sqrt()


def squared_distance(E1: Tensor, E2: Tensor) -> Tensor:
    """d = ||E1 - E2||^2 along the last axis: (m, d) and (m, d) -> (m,)."""
    if E1.shape != E2.shape:
        raise ValueError(f"squared_distance: embeddings {E1.shape} and {E2.shape} differ in shape")
    diff = E1 - E2
    return (diff * diff).sum(axis=-1)


def pairwise_squared_distances(E: Tensor) -> Tensor:
    """D[i, j] = ||e_i - e_j||^2 for the rows of E (m, d), as ||e_i||^2 - 2 e_i.e_j + ||e_j||^2:
    one (m, d) @ (d, m) product instead of an (m, m, d) array of differences. Rounding can
    leave tiny negative numbers where two embeddings coincide; they are clipped to 0."""
    if E.ndim != 2:
        raise ValueError(f"pairwise_squared_distances: embeddings must be (m, d), got {E.shape}")
    sq = (E * E).sum(axis=1, keepdims=True)                     # (m, 1)
    D = sq - 2.0 * (E @ E.T) + sq.T
    return D.clip(min=0.0)
