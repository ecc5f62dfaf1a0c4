"""Gradient descent with and without momentum, in PyTorch's form and in the course's.

Two conventions for momentum exist and give different step sizes for the same lr:

    SGD(momentum=mu)    PyTorch (and Sutskever et al.):  v = mu v + g;            W -= lr v
    Momentum(beta=b)    the course (Ng):                 v = b v + (1 - b) dW;    W -= lr v

The course's v is an exponentially weighted average of the gradients, so its steps are about
(1 - b) times PyTorch's for the same lr: Momentum(lr, beta=0.9) moves like
SGD(lr * 0.1, momentum=0.9) once v has warmed up (exactly so from zero velocity, see tests).
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's torch.optim.SGD.

        g = dW + weight_decay W                      (L2 regularization through the gradient)
        v = g on the first step, then v = momentum v + (1 - dampening) g
        g = g + momentum v   if nesterov, else   g = v        (when momentum > 0)
        W = W - lr g

    With momentum=0 this is the course's plain update W = W - alpha dW.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, group):
        super()._check_group(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {group['momentum']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, w, g, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * w
        if mu:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = np.array(g, dtype=w.dtype)
            else:
                v *= mu
                kernels.axpy(1.0 - group["dampening"], g, v)  # v += (1 - dampening) g
            g = g + mu * v if group["nesterov"] else v
        kernels.axpy(-lr, g, w)  # W -= lr g, in one pass over W and g


class Momentum(Optimizer):
    """Gradient descent with momentum in the course's exponentially-weighted form:

        v = beta v + (1 - beta) dW        (v starts at zero)
        W = W - lr v

    beta = 0.9 averages roughly the last 1 / (1 - beta) = 10 gradients. The velocity is not
    bias-corrected (the course: after ~10 steps the correction no longer matters); use
    Adam for a corrected average. weight_decay adds weight_decay W to dW first (L2).
    This is not PyTorch's SGD(momentum=...): see this module's docstring.
    """

    def __init__(self, params, lr: float = 0.01, beta: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, beta=beta, weight_decay=weight_decay))

    def _check_group(self, group):
        super()._check_group(group)
        if not 0.0 <= group["beta"] < 1.0:
            raise ValueError(f"Momentum: beta must be in [0, 1), got {group['beta']}")

    def _update(self, w, g, state, group):
        beta, wd = group["beta"], group["weight_decay"]
        if wd:
            g = g + wd * w
        v = state.get("velocity")
        if v is None:
            v = state["velocity"] = np.zeros_like(w)
        v *= beta
        v += (1.0 - beta) * g
        w -= group["lr"] * v
