"""Differentiable ops, and the Tensor operators and methods built on them.

Each op is a Function in one of the topic files (arithmetic, math, reduce, shape, activation,
loss, linear). The functions here turn user arguments (Python numbers, axes given as `dim`,
shapes given as *sizes) into op calls, and `_attach` makes them Tensor methods, so that
`a @ b + c` and `x.sum(axis=1)` record the graph.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor, to_numpy
from . import activation, arithmetic, linear, loss, math, reduce, shape
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Step, Tanh
from .arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub
from .math import Abs, Cast, Clip, Cos, Exp, Log, Maximum, Minimum, Sin, Sqrt, Where
from .reduce import Max, Mean, Min, Sum, Var
from .shape import BroadcastTo, Concatenate, GetItem, Pad, Permute, Reshape, Stack


def keywords(name: str, kw: dict, **spellings):
    """The values of the keyword `spellings` taken out of a function's **kw (PyTorch's dim=,
    keepdim=, ...), each defaulting to the value given, in order (one value alone for one
    spelling). Any other keyword in kw raises the TypeError Python raises for a function
    that does not take it, naming the function: a typo such as dimm= is never ignored."""
    values = [kw.pop(k, default) for k, default in spellings.items()]
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument {next(iter(kw))!r}")
    return values[0] if len(values) == 1 else tuple(values)


def _pair(a, b):
    """Both operands as tensors; a Python number takes the other operand's dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, like=b)
    if not isinstance(b, Tensor):
        b = as_tensor(b, like=a)
    return a, b


def _check_broadcast(op: str, a: Tensor, b: Tensor) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _binary(op_cls, name):
    def fn(a, b):
        a, b = _pair(a, b)
        if a.shape != b.shape:
            _check_broadcast(name, a, b)
        return op_cls()(a, b)

    fn.__name__ = name
    return fn


add = _binary(Add, "add")
sub = _binary(Sub, "sub")
mul = _binary(Mul, "mul")
div = _binary(Div, "div")
pow = _binary(Pow, "pow")  # noqa: A001 - the name users know
maximum = _binary(Maximum, "maximum")
minimum = _binary(Minimum, "minimum")


def neg(x):
    return Neg()(x)


def matmul(a, b):
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {a.shape} @ {b.shape}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: inner dimensions differ: {a.shape} @ {b.shape} ({ka} != {kb})"
        )
    return MatMul()(a, b)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def sqrt(x):
    return Sqrt()(x)


def sin(x):
    return Sin()(x)


def cos(x):
    return Cos()(x)


def abs(x):  # noqa: A001
    return Abs()(x)


def clip(x, min=None, max=None):  # noqa: A002 - PyTorch's keyword names
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip(min, max)(x)


clamp = clip


def astype(x, dtype):
    """x cast to dtype, always a new tensor (NumPy's astype). Between floating dtypes the cast
    is differentiable (the gradient is cast back to x's dtype); a cast to an integer or
    boolean dtype leaves the graph (its result does not require grad)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return Cast(dtype)(x)
    return Tensor(x.data.astype(dtype))


def where(cond, a, b):
    """a where cond is true, else b (cond: a bool tensor or array; no gradient)."""
    cond = np.asarray(to_numpy(cond), dtype=bool)
    a, b = _pair(a, b)
    return Where(cond)(a, b)


# ---- reductions: axis/keepdims (NumPy) or dim/keepdim (PyTorch) --------------------------
def _axis_kw(name, axis, keepdims, kw):
    axis, keepdims = keywords(name, kw, dim=axis, keepdim=keepdims)
    return axis, bool(keepdims)


def _check_axes(name, x, axis):
    if axis is None:
        return
    for a in (axis,) if isinstance(axis, (int, np.integer)) else axis:
        if not -x.ndim <= a < (x.ndim or 1):
            raise ValueError(f"{name}: axis {a} is out of range for a tensor of shape {x.shape}")


def _reduction(op_cls, name):
    def fn(x, axis=None, keepdims=False, **kw):
        axis, keepdims = _axis_kw(name, axis, keepdims, kw)
        _check_axes(name, x, axis)
        return op_cls(axis, keepdims)(x)

    fn.__name__ = name
    return fn


sum = _reduction(Sum, "sum")  # noqa: A001
mean = _reduction(Mean, "mean")
max = _reduction(Max, "max")  # noqa: A001
min = _reduction(Min, "min")  # noqa: A001


def argmax(x, axis=None, keepdims=False, **kw):
    """Index of the largest element (of the flattened tensor when axis is None), int64, outside
    the graph; also dim=, keepdim= as torch.argmax."""
    axis, keepdims = _axis_kw("argmax", axis, keepdims, kw)
    _check_axes("argmax", x, axis)
    return Tensor(np.argmax(x.data, axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False, **kw):
    """Index of the smallest element; as argmax."""
    axis, keepdims = _axis_kw("argmin", axis, keepdims, kw)
    _check_axes("argmin", x, axis)
    return Tensor(np.argmin(x.data, axis=axis, keepdims=keepdims))


def var(x, axis=None, keepdims=False, correction=1, **kw):
    """Variance; correction=1 (Bessel's, torch.var's default), 0 for the population variance.
    One spelling: torch's older unbiased= and NumPy's ddof= raise, naming correction=."""
    for other in ("unbiased", "ddof"):
        if other in kw:
            raise TypeError(f"var: the divisor n - correction is set by correction= "
                            f"(0 or 1), not {other}=")
    axis, keepdims = keywords("var", kw, dim=axis, keepdim=keepdims)
    keepdims = bool(keepdims)
    _check_axes("var", x, axis)
    return Var(axis, keepdims, correction)(x)


# ---- activations (also gradwise.functional's, and Tensor methods) -----------------------
def sigmoid(z):
    """1 / (1 + e^-z), stable for large |z|."""
    return Sigmoid()(z)


def tanh(z):
    return Tanh()(z)


def relu(z):
    return ReLU()(z)


def softmax(z, axis=-1, **kw):
    """e^z / sum e^z along `axis` (also `dim=`), shifted by the max: no overflow."""
    return Softmax(keywords("softmax", kw, dim=axis))(z)


def log_softmax(z, axis=-1, **kw):
    """z - log sum e^z along `axis` (also `dim=`), shifted by the max: no overflow."""
    return LogSoftmax(keywords("log_softmax", kw, dim=axis))(z)


# ---- shape -------------------------------------------------------------------------------
def _sizes(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def reshape(x, *shape):
    shape = _sizes(shape)
    if shape == x.shape:
        return x
    return Reshape(shape)(x)


def permute(x, *dims):
    dims = tuple(int(d) % x.ndim for d in _sizes(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} axes of {x.shape}")
    return Permute(dims)(x)


def transpose(x, dim0=None, dim1=None):
    """Swap two axes (PyTorch); with no axes given, reverse them all (NumPy's .T)."""
    axes = list(range(x.ndim))
    if dim0 is None and dim1 is None:
        axes.reverse()
    else:
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return Permute(tuple(axes))(x)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1:])


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = {d % x.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x, dim):
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def broadcast_to(x, *shape):
    shape = _sizes(shape)
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    if shape == x.shape:
        return x
    return BroadcastTo(shape)(x)


def expand(x, *sizes):
    """Like torch.expand: -1 keeps a size."""
    sizes = _sizes(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def _joinable(name, tensors):
    tensors = [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    return tensors


def concatenate(tensors, axis=0, **kw):
    axis = keywords("concatenate", kw, dim=axis)
    tensors = _joinable("concatenate", tensors)
    ref = tensors[0].shape
    ax = axis % len(ref)
    for t in tensors[1:]:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != ax):
            raise ValueError(
                f"concatenate: shapes {ref} and {t.shape} differ outside axis {axis}"
            )
    return Concatenate(axis)(*tensors)


cat = concatenate


def stack(tensors, axis=0, **kw):
    axis = keywords("stack", kw, dim=axis)
    tensors = _joinable("stack", tensors)
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return Stack(axis)(*tensors)


def pad(x, pad_width, value=0.0):
    """Constant padding, NumPy style: an int, a (before, after) pair for every axis, or one
    (before, after) pair per axis."""
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (pw < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width}")
    return Pad(tuple(map(tuple, pw.tolist())), value)(x)


def _index(index):
    """Tensors inside an index become arrays (indices are data, not graph inputs)."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def getitem(x, index):
    return GetItem(_index(index))(x)


# ---- comparisons: plain boolean tensors, outside the graph -------------------------------
def _compare(ufunc):
    def fn(a, b):
        return Tensor(ufunc(to_numpy(a), to_numpy(b)))

    return fn


# ---- Tensor methods -----------------------------------------------------------------------
def _attach():
    T = Tensor
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__pow__ = pow
    T.__rpow__ = lambda self, other: pow(other, self)
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.__lt__ = _compare(np.less)
    T.__le__ = _compare(np.less_equal)
    T.__gt__ = _compare(np.greater)
    T.__ge__ = _compare(np.greater_equal)
    T.__eq__ = _compare(np.equal)
    T.__ne__ = _compare(np.not_equal)
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__
    for name, fn in dict(
        exp=exp, log=log, sqrt=sqrt, sin=sin, cos=cos, abs=abs, clip=clip, clamp=clip,
        maximum=maximum, minimum=minimum, sum=sum, mean=mean, max=max, min=min, var=var,
        reshape=reshape, view=reshape, permute=permute, transpose=transpose, flatten=flatten, squeeze=squeeze,
        unsqueeze=unsqueeze, expand=expand, broadcast_to=broadcast_to, matmul=matmul, pow=pow,
        argmax=argmax, argmin=argmin, relu=relu, sigmoid=sigmoid, tanh=tanh, softmax=softmax,
        log_softmax=log_softmax,
    ).items():
        setattr(T, name, fn)
    T.astype = astype
    T.float = lambda self: astype(self, np.float32)
    T.double = lambda self: astype(self, np.float64)
    T.T = property(lambda self: transpose(self))


_attach()

__all__ = [
    "activation", "arithmetic", "linear", "loss", "math", "reduce", "shape",
    "keywords", "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "sin",
    "cos", "abs", "astype", "clip", "clamp", "maximum", "minimum", "where", "sum", "mean", "max",
    "min", "argmax", "argmin", "var", "sigmoid", "tanh", "relu", "softmax", "log_softmax",
    "reshape", "permute", "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to", "expand",
    "concatenate", "cat", "stack", "pad", "getitem",
    "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax", "Softplus",
]
