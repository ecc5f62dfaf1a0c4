"""gradwise: deep learning from first principles on NumPy.

    import gradwise as gw
    x = gw.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()          # x.grad == [[2., 4.]]
"""
import numpy as np

from . import (
    backend,
    check,  # noqa: E402
    functional,  # noqa: E402  (after ops: it builds on them)
)
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    get_default_dtype,
    get_num_threads,
    get_rng_state,
    manual_seed,
    set_default_dtype,
    set_num_threads,
    set_rng_state,
)
from .io import load, save  # noqa: E402
from .ops import (
    abs,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    concatenate,
    cos,
    exp,
    expand,
    flatten,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    pad,
    permute,
    reshape,
    sin,
    sqrt,
    squeeze,
    stack,
    sum,
    transpose,
    unsqueeze,
    var,
    where,
)
from .tensor import (
    Tensor,
    arange,
    full,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)

float32 = np.float32
float64 = np.float64
int64 = np.int64

__version__ = "0.1.0"
