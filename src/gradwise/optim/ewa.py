"""Exponentially weighted averages, the idea under momentum, RMSprop and Adam.

    v_0 = 0,   v_t = beta v_{t-1} + (1 - beta) theta_t,   corrected: v_t / (1 - beta^t)

v_t averages roughly the last 1 / (1 - beta) values (beta = 0.9: ~10, 0.98: ~50). Starting
from zero makes the first values too small (v_1 = (1 - beta) theta_1); dividing by
1 - beta^t removes that bias, and matters less and less as t grows.

    avg = ExponentiallyWeightedAverage(beta=0.9)
    for theta in temperatures:
        avg.update(theta)         # returns the corrected average
    ewa(temperatures, beta=0.9)   # the whole corrected sequence at once
"""
from __future__ import annotations

import numpy as np


class ExponentiallyWeightedAverage:
    """A running v_t of scalars or arrays; `value` is bias-corrected unless asked otherwise."""

    def __init__(self, beta: float = 0.9, bias_correction: bool = True):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"ExponentiallyWeightedAverage: beta must be in [0, 1), got {beta}")
        self.beta, self.bias_correction = float(beta), bias_correction
        self.t = 0
        self.v = 0.0  # the raw average, v_0 = 0

    def update(self, theta):
        """Fold in one value theta_t; return the (corrected) average."""
        self.t += 1
        self.v = self.beta * self.v + (1.0 - self.beta) * np.asarray(theta, dtype=np.float64)
        return self.value

    @property
    def value(self):
        """v_t / (1 - beta^t) with bias correction, else v_t."""
        if self.t == 0:
            raise ValueError("ExponentiallyWeightedAverage: no value has been averaged yet")
        v = self.v / (1.0 - self.beta ** self.t) if self.bias_correction else self.v
        return float(v) if np.ndim(v) == 0 else v

    def state_dict(self) -> dict:
        return {"beta": self.beta, "bias_correction": self.bias_correction, "t": self.t, "v": self.v}

    def load_state_dict(self, state: dict) -> None:
        self.beta, self.bias_correction = float(state["beta"]), bool(state["bias_correction"])
        self.t, self.v = int(state["t"]), state["v"]


def ewa(values, beta: float = 0.9, bias_correction: bool = True) -> np.ndarray:
    """The averages v_1 .. v_T of a sequence (axis 0), as float64; corrected by default."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or len(values) == 0:
        raise ValueError(f"ewa: expected a non-empty sequence, got shape {values.shape}")
    avg = ExponentiallyWeightedAverage(beta, bias_correction)
    return np.stack([np.asarray(avg.update(v)) for v in values])
