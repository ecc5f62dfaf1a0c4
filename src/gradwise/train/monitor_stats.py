"""The per-layer statistics of the training-health monitor: what it measures, and how.

Per layer, each epoch (means over the measured batches of the epoch):
    grad_norm      ||dW||, the Frobenius norm of the layer's weight gradient
    update_ratio   ||W_after - W_before|| / ||W_before|| for one optimizer step (a healthy
                   step changes the weights by about 1e-3 of their size, a rule of thumb
                   from CS231n)
    weight_norm    ||W|| at the end of the epoch
    mean, std      of the layer's output over the epoch's examples (A for activations, Z for
                   Linear/Conv layers)
    saturated      sigmoid/tanh: the fraction of outputs whose local gradient is below 1e-3
                   (sigmoid A (1 - A) < 1e-3 is |z| > 6.9; tanh 1 - A^2 < 1e-3 is |z| > 3.8),
                   units that barely pass any gradient back
    dead           ReLU: the fraction of units (features; channels of images) that output 0 for
                   every example of the epoch: they get no gradient and never recover

Layers are the modules that own a weight of 2 or more dimensions (Linear, Conv2d) and the
activation modules (Sigmoid, Tanh, ReLU, LeakyReLU, ...).
"""
from __future__ import annotations

import math

import numpy as np

from ..nn import layers as L

# The local gradient below which a unit counts as saturated, and how to read it from the output
# A (no need to keep Z): sigmoid'(z) = A (1 - A), tanh'(z) = 1 - A^2.
SATURATION_SLOPE = 1e-3
_SLOPE = {
    L.Sigmoid: lambda A: A * (1 - A),
    L.Tanh: lambda A: 1 - A * A,
}
_RELU = (L.ReLU,)
_ACTIVATIONS = (L.Sigmoid, L.Tanh, L.ReLU, L.LeakyReLU, L.Softplus)


def watched_layers(model) -> list[LayerStats]:
    """The layers of the model the monitor watches, in forward (registration) order."""
    return [LayerStats(name, m) for name, m in model.named_modules()
            if isinstance(m, _ACTIVATIONS) or any(p.ndim >= 2 for p in m.parameters(recurse=False))]


def _sq(x: np.ndarray) -> float:
    """sum(x^2): one BLAS dot in the array's dtype, again in float64 if that overflowed (the
    squares of an exploding float32 layer pass 3e38 long before its values do)."""
    x = x.ravel()
    s = float(np.dot(x, x))
    if not math.isfinite(s) and x.dtype != np.float64:
        x = x.astype(np.float64)
        s = float(np.dot(x, x))
    return s


class LayerStats:
    """One watched module and the running sums of the current epoch."""

    def __init__(self, name: str, module):
        self.name, self.module = f"{name or 'model'} ({type(module).__name__})", module
        self.weights = [p for p in module.parameters(recurse=False) if p.ndim >= 2]
        self.slope = _SLOPE.get(type(module))
        self.relu = isinstance(module, _RELU)
        self.history: dict[str, list] = {}
        self.before = None
        self.reset()

    def reset(self) -> None:
        self.n_grad = 0
        self.grad, self.update = 0.0, 0.0
        self.n_out, self.mean, self.m2, self.n_sat = 0, 0.0, 0.0, 0  # m2: sum of (A - mean)^2
        self.alive = None     # per unit: has it been > 0 for some example this epoch?
        self.shared = False   # one module called on inputs of different widths: no unit count

    # ---- what the forward hook sees --------------------------------------------------------
    def see_output(self, A: np.ndarray) -> None:
        # the batch's mean and centred sum of squares, merged into the epoch's (Chan et al.'s
        # parallel variance: no E[A^2] - mean^2 cancellation, no float64 copy of A)
        n = A.size
        mean = float(A.sum(dtype=np.float64)) / n
        m2 = _sq(A - A.dtype.type(mean)) if A.dtype.kind == "f" else _sq((A - mean).astype(np.float64))
        total = self.n_out + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n_out * n / total
        self.n_out = total
        if self.slope is not None:
            self.n_sat += int(np.count_nonzero(self.slope(A) < SATURATION_SLOPE))
        if self.relu and A.ndim >= 2:
            other = (0,) + tuple(range(2, A.ndim))  # every axis but the units' (axis 1)
            active = (A > 0).any(axis=other)
            if self.alive is None:
                self.alive = active
            elif self.alive.shape == active.shape:
                self.alive |= active
            else:
                self.shared = True

    # ---- around an optimizer step ------------------------------------------------------------
    def rms(self, norm: float) -> float:
        """A Frobenius norm of the weights' shape, per entry."""
        return norm / math.sqrt(sum(W.size for W in self.weights))

    def snapshot(self) -> None:
        self.before = [W.data.copy() for W in self.weights]

    def see_step(self) -> None:
        grads = [W.grad for W in self.weights if W.grad is not None]
        if not grads:  # frozen layer, or one the loss did not reach
            self.before = None
            return
        self.n_grad += 1
        self.grad += math.sqrt(sum(_sq(g) for g in grads))
        if self.before is not None:
            dW = math.sqrt(sum(_sq(W.data - W0) for W, W0 in zip(self.weights, self.before)))
            norm = math.sqrt(sum(_sq(W0) for W0 in self.before))
            self.update += dW / norm if norm > 0 else math.inf
            self.before = None

    # ---- the epoch's numbers ------------------------------------------------------------------
    def close_epoch(self) -> dict:
        row = {}
        if self.weights:
            row["grad_norm"] = self.grad / self.n_grad if self.n_grad else math.nan
            row["update_ratio"] = self.update / self.n_grad if self.n_grad else math.nan
            row["weight_norm"] = math.sqrt(sum(_sq(W.data) for W in self.weights))
        if self.n_out:
            row["mean"] = self.mean
            var = self.m2 / self.n_out
            row["std"] = math.sqrt(var) if math.isfinite(var) else math.inf
        if self.slope is not None and self.n_out:
            row["saturated"] = self.n_sat / self.n_out
        if self.relu and self.alive is not None and not self.shared:
            row["dead"] = float(np.count_nonzero(~self.alive)) / self.alive.size
        for k, v in row.items():
            self.history.setdefault(k, []).append(v)
        self.reset()
        return row
