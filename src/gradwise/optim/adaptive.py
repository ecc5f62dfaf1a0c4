"""Optimizers with a per-weight step size: Adagrad, RMSprop, Adam, AdamW.

Course names and the state keys they are stored under (PyTorch's, so that state dicts read
the same to a PyTorch user):
    v  (first moment, momentum)        'exp_avg'
    s  (second moment, RMSprop)        'square_avg' (RMSprop), 'exp_avg_sq' (Adam)
    sum of squared gradients           'sum' (Adagrad)
    t  (steps taken, for bias correction)  'step'
Every buffer is updated in place.
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from .optimizer import Optimizer


def _check_range(name, what, value, low=0.0, high=1.0):
    if not low <= value < high:
        raise ValueError(f"{name}: {what} must be in [{low}, {high}), got {value}")


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), as torch.optim.Adagrad:

        g = dW + weight_decay W
        sum = sum + g^2                       (starts at initial_accumulator_value)
        W = W - lr_t g / (sqrt(sum) + eps),   lr_t = lr / (1 + (t - 1) lr_decay)

    Each weight's step shrinks with the total of its past squared gradients.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))
        # PyTorch fills the accumulator when the optimizer is built, not at the first step
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full_like(
                    p.data, group["initial_accumulator_value"])}

    def _check_group(self, group):
        super()._check_group(group)
        if group["lr_decay"] < 0 or group["initial_accumulator_value"] < 0 or group["eps"] < 0:
            raise ValueError("Adagrad: lr_decay, initial_accumulator_value and eps must be >= 0")

    def _update(self, w, g, state, group):
        if "sum" not in state:  # a group added after construction
            state.update(step=0, sum=np.full_like(w, group["initial_accumulator_value"]))
        state["step"] += 1
        t, wd = state["step"], group["weight_decay"]
        if wd:
            g = g + wd * w
        lr = group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        w -= lr * g / (np.sqrt(s) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), in the course's notation:

        s = beta s + (1 - beta) dW^2          (s starts at zero)
        W = W - lr dW / (sqrt(s) + eps)

    beta is PyTorch's `alpha` (one name here: the course's; alpha= raises, saying so); the
    defaults are PyTorch's
    (lr 0.01, beta 0.99, eps 1e-8; the course's Adam uses beta2 = 0.999 for the same average).
    momentum > 0 keeps a velocity b = momentum b + dW / (sqrt(s) + eps) and steps W -= lr b;
    centered=True divides by the estimated standard deviation sqrt(s - mean(dW)^2) instead.
    As in PyTorch, eps is added after the square root (Keras adds it inside).
    """

    def __init__(self, params, lr: float = 1e-2, beta: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 **kw):
        if "alpha" in kw:
            raise TypeError("RMSprop: the decay rate is called beta here (PyTorch's alpha): "
                            f"write beta={kw['alpha']}")
        if kw:
            raise TypeError(f"RMSprop() got an unexpected keyword argument {next(iter(kw))!r}")
        super().__init__(params, dict(lr=lr, beta=beta, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check_group(self, group):
        super()._check_group(group)
        _check_range("RMSprop", "beta", group["beta"])
        if group["eps"] < 0 or group["momentum"] < 0:
            raise ValueError("RMSprop: eps and momentum must be >= 0")

    def _update(self, w, g, state, group):
        beta, wd, mu = group["beta"], group["weight_decay"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=np.zeros_like(w))
            if mu:
                state["momentum_buffer"] = np.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(w)
        state["step"] += 1
        if wd:
            g = g + wd * w
        s = state["square_avg"]
        s *= beta
        s += (1.0 - beta) * (g * g)
        if group["centered"]:
            m = state["grad_avg"]
            m *= beta
            m += (1.0 - beta) * g
            denom = np.sqrt(s - m * m) + group["eps"]
        else:
            denom = np.sqrt(s) + group["eps"]
        if mu:
            b = state["momentum_buffer"]
            b *= mu
            b += g / denom
            w -= group["lr"] * b
        else:
            w -= group["lr"] * g / denom


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum and RMSprop together, with bias correction.

        g = dW + weight_decay W                 (L2 through the gradient, as torch.optim.Adam)
        v = beta1 v + (1 - beta1) g             s = beta2 s + (1 - beta2) g^2
        v_hat = v / (1 - beta1^t)               s_hat = s / (1 - beta2^t)
        W = W - lr v_hat / (sqrt(s_hat) + eps)

    t counts this parameter's steps from 1. amsgrad=True divides by the running maximum of
    s_hat's numerator instead (Reddi et al. 2018). Defaults: the course's and PyTorch's
    (lr 0.001, betas (0.9, 0.999), eps 1e-8).
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_group(self, group):
        super()._check_group(group)
        betas = group["betas"] = tuple(group["betas"])
        if len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair, got {betas}")
        _check_range(type(self).__name__, "beta1", betas[0])
        _check_range(type(self).__name__, "beta2", betas[1])
        if group["eps"] < 0:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0, got {group['eps']}")

    def _update(self, w, g, state, group):
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        if wd:
            if self.decoupled:  # AdamW: shrink the weights, outside the adaptive step
                w *= 1.0 - lr * wd
            else:
                g = g + wd * w
        v_hat_scale = 1.0 / (1.0 - beta1 ** t)                # bias corrections
        s_hat_scale = 1.0 / (1.0 - beta2 ** t)
        # v, s and W in one pass where they are laid out alike (kernels.adam: the formulas)
        kernels.adam(w, g, state["exp_avg"], state["exp_avg_sq"], beta1, beta2,
                     lr * v_hat_scale, s_hat_scale, group["eps"],
                     state["max_exp_avg_sq"] if group["amsgrad"] else None)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW:

        W = W (1 - lr weight_decay)      then the Adam step, on the gradient without decay

    Unlike L2 in Adam, the decay is not divided by sqrt(s_hat): every weight shrinks at the
    same rate. Default weight_decay 0.01, as PyTorch.
    """

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

