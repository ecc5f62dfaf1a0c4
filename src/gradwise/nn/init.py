"""Weight initialization schemes, as the course names them.

Each function fills a tensor in place (PyTorch's trailing underscore) and returns it; the
names without underscore are aliases. fan_in of a weight W (n, n_prev) is n_prev; of a
convolution kernel (C_out, C_in, f, f) it is C_in f f.

    normal(std=0.01)      the course's np.random.randn(n, n_prev) * 0.01
    xavier_normal         std = sqrt(1 / n_prev)          (variant='course')
                          std = sqrt(2 / (n_prev + n))    (variant='glorot', Glorot & Bengio)
    he_normal             std = sqrt(2 / n_prev)          (He et al., for ReLU)
Every draw comes from gradwise's generator (gradwise.manual_seed).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor


def fans(t: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (n_prev, n) for (n, n_prev); times f*f for kernels."""
    shape = t.shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in/out needs a weight with at least 2 dimensions, got {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    t.data[...] = values
    return t


def zeros_(t: Tensor) -> Tensor:
    return _fill(t, 0)


def ones_(t: Tensor) -> Tensor:
    return _fill(t, 1)


def constant_(t: Tensor, value: float) -> Tensor:
    return _fill(t, value)


def normal_(t: Tensor, mean: float = 0.0, std: float = 0.01) -> Tensor:
    """N(mean, std^2); the default std 0.01 is the course's randn * 0.01."""
    return _fill(t, mean + std * backend.rng().standard_normal(t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    return _fill(t, backend.rng().uniform(a, b, t.shape))


def _xavier_std(t: Tensor, variant: str) -> float:
    fan_in, fan_out = fans(t)
    if variant == "course":
        return math.sqrt(1.0 / fan_in)
    if variant == "glorot":
        return math.sqrt(2.0 / (fan_in + fan_out))
    raise ValueError(f"xavier: variant must be 'glorot' or 'course', got {variant!r}")


def xavier_normal_(t: Tensor, gain: float = 1.0, variant: str = "glorot") -> Tensor:
    """N(0, std^2) with std sqrt(2/(n_prev + n)) (glorot) or sqrt(1/n_prev) (course)."""
    return normal_(t, 0.0, gain * _xavier_std(t, variant))


def xavier_uniform_(t: Tensor, gain: float = 1.0, variant: str = "glorot") -> Tensor:
    """U(-a, a) with a = sqrt(3) std, the same variance as xavier_normal_."""
    a = math.sqrt(3.0) * gain * _xavier_std(t, variant)
    return uniform_(t, -a, a)


def he_normal_(t: Tensor) -> Tensor:
    """N(0, 2 / n_prev): keeps the variance of ReLU activations constant across layers."""
    return normal_(t, 0.0, math.sqrt(2.0 / fans(t)[0]))


def he_uniform_(t: Tensor) -> Tensor:
    a = math.sqrt(6.0 / fans(t)[0])
    return uniform_(t, -a, a)


def lecun_uniform_(t: Tensor) -> Tensor:
    """U(-1/sqrt(n_prev), 1/sqrt(n_prev)): PyTorch's default for Linear and Conv weights."""
    a = 1.0 / math.sqrt(fans(t)[0])
    return uniform_(t, -a, a)


kaiming_normal_ = he_normal_
kaiming_uniform_ = he_uniform_
zeros, ones, constant, normal, uniform = zeros_, ones_, constant_, normal_, uniform_
xavier_normal, xavier_uniform, he_normal, he_uniform = (
    xavier_normal_, xavier_uniform_, he_normal_, he_uniform_,
)

SCHEMES = {
    "zeros": zeros_,
    "normal": normal_,
    "xavier_normal": xavier_normal_,
    "xavier_uniform": xavier_uniform_,
    "xavier_course": lambda t: xavier_normal_(t, variant="course"),
    "he_normal": he_normal_,
    "he_uniform": he_uniform_,
    "default": lecun_uniform_,
}


def initialize(t: Tensor, scheme) -> Tensor:
    """Apply a scheme given by name (see SCHEMES) or as a callable t -> t."""
    if callable(scheme):
        scheme(t)
        return t
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init {scheme!r}; choose one of {sorted(SCHEMES)} or pass a callable")
    return SCHEMES[scheme](t)
