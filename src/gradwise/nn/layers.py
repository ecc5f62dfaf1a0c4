"""The dense-network layers: Linear, activations, Dropout, BatchNorm1d, Flatten, Identity."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import functional as F
from ..ops import keywords
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class WeightLayer(Module):
    """A layer that owns a weight W and an optional bias b (Linear, Conv2d): their creation,
    the PyTorch names weight/bias, and the initialization shared by both.

    init: how W is drawn: 'default' (PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in))),
    'he_normal', 'he_uniform', 'xavier_normal', 'xavier_uniform', 'xavier_course',
    'normal' (randn * 0.01), 'zeros', or a callable. b starts at zero unless init='default'
    (then U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch). fan_in is n[l-1] for a dense
    layer and C f f for a convolution.
    """

    TORCH_NAMES = {"W": "weight", "b": "bias"}

    def _make_parameters(self, W_shape: tuple, bias: bool, init_name, dtype) -> None:
        dtype = dtype or backend.get_default_dtype()
        self.W = Parameter(np.empty(W_shape, dtype=dtype))
        self.b = Parameter(np.zeros(W_shape[0], dtype=dtype)) if bias else None
        if not bias:
            self.register_parameter("b", None)
        self.init = init_name
        self.reset_parameters()

    # PyTorch names for the same parameters
    @property
    def weight(self) -> Parameter:
        return self.W

    @property
    def bias(self) -> Parameter | None:
        return self.b

    def reset_parameters(self) -> None:
        init.initialize(self.W, self.init)
        if self.b is not None:
            if self.init == "default":
                a = 1.0 / math.sqrt(init.fans(self.W)[0])
                init.uniform_(self.b, -a, a)
            else:
                init.zeros_(self.b)


class Linear(WeightLayer):
    """Z = X W^T + b, with W of shape (out_features, in_features) as in the course's W[l]
    (n[l], n[l-1]) and in PyTorch. init: see WeightLayer.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str = "default", dtype=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: sizes must be positive, got ({in_features}, {out_features})")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._make_parameters((self.out_features, self.in_features), bias, init, dtype)

    def forward(self, X: Tensor) -> Tensor:
        if X.ndim == 0 or X.shape[-1] != self.in_features:
            raise ValueError(
                f"{self._name()}: expected input (batch, {self.in_features}), got {X.shape}"
            )
        return F.linear(X, self.W, self.b)

    def _name(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.b is not None}"


class Identity(Module):
    def forward(self, X):
        return X


class Flatten(Module):
    """(m, d1, d2, ...) -> (m, d1 * d2 * ...): keeps the batch axis by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, X):
        return X.flatten(self.start_dim, self.end_dim)


class _Activation(Module):
    fn = None

    def forward(self, Z):
        return type(self).fn(Z)


class Step(_Activation):
    fn = staticmethod(F.step)


class Sigmoid(_Activation):
    fn = staticmethod(F.sigmoid)


class Tanh(_Activation):
    fn = staticmethod(F.tanh)


class ReLU(_Activation):
    fn = staticmethod(F.relu)


class Softplus(_Activation):
    fn = staticmethod(F.softplus)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, Z):
        return F.leaky_relu(Z, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    def __init__(self, axis: int = -1, **kw):
        super().__init__()
        self.axis = keywords(type(self).__name__, kw, dim=axis)

    def forward(self, Z):
        return F.softmax(Z, self.axis)


class LogSoftmax(Softmax):
    def forward(self, Z):
        return F.log_softmax(Z, self.axis)


class Dropout(Module):
    """Inverted dropout with drop probability p; keep_prob = 1 - p in the course's terms.

    Training: units are zeroed with probability p and the rest scaled by 1 / keep_prob.
    Evaluation (model.eval()): the identity. Masks are drawn from `generator` (a
    numpy.random.Generator of your own), by default gradwise's global generator.
    """

    def __init__(self, p: float = 0.5, generator=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        F.check_generator("Dropout", generator)
        self.p, self.generator = p, generator

    def forward(self, A):
        return F.dropout(A, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}" + ("" if self.generator is None else ", generator=own")


class BatchNorm1d(Module):
    """Batch normalization of (m, C) features with learnable gamma (weight), beta (bias).

    Training uses the batch's mean and variance and updates running averages with PyTorch's
    momentum convention (running = (1 - momentum) running + momentum batch, momentum 0.1;
    Keras' momentum=0.99 means the same as ours 0.01). Evaluation uses the running averages.
    """

    TORCH_NAMES = {"gamma": "weight", "beta": "bias"}

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        dtype = dtype or backend.get_default_dtype()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.gamma = Parameter(np.ones(num_features, dtype=dtype), requires_grad=affine)
        self.beta = Parameter(np.zeros(num_features, dtype=dtype), requires_grad=affine)
        self.track_running_stats = track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = None

    @property
    def weight(self) -> Parameter:
        return self.gamma

    @property
    def bias(self) -> Parameter:
        return self.beta

    expected_ndim = (2,)
    unbiased_running_var = True   # PyTorch's; False: the batch's own variance (the book's)

    def forward(self, X: Tensor) -> Tensor:
        if X.ndim not in self.expected_ndim or X.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input with "
                f"{self.num_features} channels on axis 1 and {' or '.join(map(str, self.expected_ndim))} "
                f"dimensions, got {X.shape}"
            )
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
        return F.batch_norm(X, self.running_mean, self.running_var, self.gamma, self.beta,
                            training=use_batch, momentum=self.momentum, eps=self.eps,
                            unbiased=self.unbiased_running_var)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class LayerNorm(Module):
    """Layer normalization over the last axes (normalized_shape), per example: the same in
    training and evaluation, with no running statistics. Learnable gamma (weight) and beta
    (bias) of normalized_shape; elementwise_affine=False leaves them out, bias=False beta.
    The Transformer's choice: a sequence's statistics should not depend on the batch."""

    TORCH_NAMES = {"gamma": "weight", "beta": "bias"}

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        dtype = dtype or backend.get_default_dtype()
        self.normalized_shape, self.eps = shape, eps
        self.gamma = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.beta = Parameter(np.zeros(shape, dtype=dtype)) if elementwise_affine and bias else None
        for name in ("gamma", "beta"):
            if getattr(self, name) is None:
                self.register_parameter(name, None)

    @property
    def weight(self) -> Parameter | None:
        return self.gamma

    @property
    def bias(self) -> Parameter | None:
        return self.beta

    def forward(self, X: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if X.ndim < k or X.shape[X.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape}: expected input (..., "
                             f"{', '.join(map(str, self.normalized_shape))}), got {X.shape}")
        return F.layer_norm(X, self.normalized_shape, self.gamma, self.beta, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"
