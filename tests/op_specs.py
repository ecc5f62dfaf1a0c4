"""The op table: one or more Specs per differentiable op in gradwise.autograd.OP_REGISTRY.

A Spec says which op it covers, how to call it through gradwise's public API (`gw_fn`) and
through PyTorch (`torch_fn`), how to draw the input shapes, and what values each input may
take. The same table drives two test files:

    test_gradcheck_ops.py    gradwise.check.gradcheck (central differences, float64),
                             shapes and values from a seeded NumPy generator;
    test_torch_reference.py  forward values and gradients against torch, shapes and the
                             value seed drawn by hypothesis.

Shapes: `spec.shapes(draw)` returns one shape per input, where `draw(lo, hi)` is an int in
[lo, hi] (`rng.integers(lo, hi + 1)` or `data.draw(st.integers(lo, hi))`).

Values: every input is an `Arg(domain, grad)`. A domain samples an array of the given shape
(it also sees all the shapes, so labels and indices can fit the tensor they refer to).
Inputs with `grad=False` (labels, targets, masks, indices, running statistics) are constant
data: they get no gradient in either framework. Domains keep differentiable inputs away from
kinks and ties (abs/relu/step at 0, clip bounds, max/maximum ties) by a margin far larger
than gradcheck's eps, so the numerical derivative is the one-sided-free true derivative.

`torch_fn` is only called in test_torch_reference.py, which imports torch; this module does
not need it (`tF` and `torch` below are resolved lazily).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import gradwise as gw
import gradwise.functional as F


class _Lazy:
    """Attribute access to a module imported on first use (torch is optional)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


torch = _Lazy("torch")
tF = _Lazy("torch.nn.functional")


# ---- value domains ----------------------------------------------------------------------
@dataclass(frozen=True)
class Domain:
    """How to sample one input: `sample(rng, shape, shapes) -> ndarray`; kind float/int/bool."""

    name: str
    sample: Callable
    kind: str = "float"

    def __call__(self, rng, shape, shapes):
        out = np.asarray(self.sample(rng, tuple(shape), shapes))
        assert out.shape == tuple(shape) or self.kind != "float", (self.name, out.shape, shape)
        return out


def real(scale=1.0):
    return Domain(f"real({scale})", lambda rng, s, _: scale * rng.standard_normal(s))


def uniform(lo, hi):
    return Domain(f"uniform({lo}, {hi})", lambda rng, s, _: rng.uniform(lo, hi, s))


def positive(lo=0.5, hi=2.0):
    """Base of log, sqrt, pow; divisors."""
    return uniform(lo, hi)


def prob(lo=0.05, hi=0.95):
    """Probabilities kept inside (0, 1), away from BCE's clipping."""
    return uniform(lo, hi)


def nonzero(lo=0.1, hi=2.0):
    """|x| in [lo, hi] with a random sign: away from the kink at 0 (abs, relu, step, 1/x)."""
    def sample(rng, s, _):
        return rng.choice([-1.0, 1.0], size=s) * rng.uniform(lo, hi, s)
    return Domain(f"nonzero({lo}, {hi})", sample)


def away(*points, gap=0.02, scale=1.0):
    """Normal draws nudged out of [p - gap, p + gap] around each kink p (e.g. clip bounds)."""
    def sample(rng, s, _):
        x = scale * rng.standard_normal(s)
        for p in points:
            d = x - p
            close = np.abs(d) < gap
            x = np.where(close, p + np.where(d >= 0, gap, -gap), x)
        return x
    return Domain(f"away{points}", sample)


def grid(offset=0.0, step=0.1, scale=1.0):
    """Values on the lattice step*k + offset: two inputs on lattices with different offsets
    never tie, whatever the broadcasting (maximum/minimum)."""
    def sample(rng, s, _):
        return np.round(scale * rng.standard_normal(s) / step) * step + offset
    return Domain(f"grid({offset}, {step})", sample)


def distinct(step=0.1):
    """All elements different by at least 0.8*step, in random order: max/min reductions
    have a unique arg-extremum along any axes."""
    def sample(rng, s, _):
        n = int(np.prod(s))
        v = (rng.permutation(n) - n / 2) * step + rng.uniform(0, 0.2 * step, n)
        return v.reshape(s)
    return Domain(f"distinct({step})", sample)


def labels(of=0, axis=1):
    """Integer class labels in [0, C), C = size of `axis` of input `of`."""
    def sample(rng, s, shapes):
        return rng.integers(0, shapes[of][axis], size=s)
    return Domain(f"labels(C = shape[{of}][{axis}])", sample, kind="int")


def index(of=0, axis=0):
    """Integer indices into `axis` of input `of`, negative ones included, with element 0
    repeated (also through its negative alias) so that backward must accumulate."""
    def sample(rng, s, shapes):
        n = shapes[of][axis]
        idx = rng.integers(0, n, size=s)
        idx = np.where(rng.random(s) < 0.3, idx - n, idx)  # some negative aliases
        flat = idx.reshape(-1)
        if flat.size >= 2:
            flat[1] = flat[0]
        if flat.size >= 3:
            flat[2] = flat[0] - n if flat[0] >= 0 else flat[0] + n
        return idx
    return Domain(f"index(shape[{of}][{axis}])", sample, kind="int")


def mask(p=0.5):
    """A boolean mask (where's condition, boolean indexing, dropout's kept units)."""
    return Domain(f"mask({p})", lambda rng, s, _: rng.random(s) < p, kind="bool")


def dist():
    """Rows that are probability distributions over the last axis (soft targets)."""
    def sample(rng, s, _):
        return rng.dirichlet(np.ones(s[-1]), size=s[:-1])
    return Domain("dirichlet", sample)


def binary():
    """0./1. targets."""
    return Domain("binary", lambda rng, s, _: (rng.random(s) < 0.5).astype(np.float64))


@dataclass(frozen=True)
class Arg:
    domain: Domain
    grad: bool = True

    @property
    def kind(self):
        return self.domain.kind

    @property
    def differentiable(self):
        return self.grad and self.kind == "float"


def const(domain):
    """An input that is data, not a graph input that wants a gradient."""
    return Arg(domain, grad=False)


# ---- specs ------------------------------------------------------------------------------
@dataclass
class Spec:
    op: str                  # the class name in OP_REGISTRY this spec covers
    name: str                # short case name; the test id is "op-name"
    gw_fn: Callable          # gw_fn(*gradwise_tensors) -> Tensor
    torch_fn: Callable       # torch_fn(*torch_tensors) -> torch.Tensor
    shapes: Callable         # shapes(draw) -> one shape per input
    args: tuple = ()         # one Arg per input
    f32_rtol: float = 1e-4   # float32 forward tolerance against torch in float64
    f32_atol: float = 1e-5

    @property
    def id(self) -> str:
        return f"{self.op}-{self.name}"

    def sample(self, draw, rng) -> list:
        """Draw the shapes, then one array per input (float64 for float inputs)."""
        shapes = [tuple(s) for s in self.shapes(draw)]
        assert len(shapes) == len(self.args), self.id
        return [a.domain(rng, s, shapes) for a, s in zip(self.args, shapes)]


def rng_draw(rng):
    """A `draw(lo, hi)` backed by a NumPy generator."""
    return lambda lo, hi: int(rng.integers(lo, hi + 1))


def dims(draw, n, lo=1, hi=4):
    return tuple(draw(lo, hi) for _ in range(n))


SPECS: list[Spec] = []


def spec(op, name, gw_fn, torch_fn, shapes, *args, **kw):
    args = tuple(a if isinstance(a, Arg) else Arg(a) for a in args)
    SPECS.append(Spec(op, name, gw_fn, torch_fn, shapes, args, **kw))


def same(n, k=2, lo=1, hi=4):
    """shapes(draw) for n inputs of one shape with k axes."""
    def shapes(draw):
        s = dims(draw, k, lo, hi)
        return (s,) * n
    return shapes


def one(k=2, lo=1, hi=4):
    return same(1, k, lo, hi)


REDUCTIONS = ("mean", "sum", "none")

# ---- arithmetic --------------------------------------------------------------------------
spec("Add", "same-shape", lambda a, b: a + b, lambda a, b: a + b, same(2), real(), real())
spec("Add", "broadcast-413+51", lambda a, b: a + b, lambda a, b: a + b,
     lambda d: ((d(1, 4), 1, d(1, 4)), (d(1, 5), 1)), real(), real())
spec("Add", "broadcast-both", lambda a, b: gw.ops.add(a, b), lambda a, b: torch.add(a, b),
     lambda d: ((d(1, 4), 1), (1, d(1, 4))), real(), real())
spec("Add", "python-scalar", lambda x: 2.5 + x + 1.0, lambda x: 2.5 + x + 1.0, one(), real())
spec("Add", "one-constant", lambda a, b: a + b, lambda a, b: a + b, same(2), real(), const(real()))

spec("Sub", "same-shape", lambda a, b: a - b, lambda a, b: a - b, same(2), real(), real())
spec("Sub", "broadcast", lambda a, b: a - b, lambda a, b: a - b,
     lambda d: ((d(1, 3), d(1, 4), 1), (d(1, 5),)), real(), real())
spec("Sub", "rsub-scalar", lambda x: 1.5 - x, lambda x: 1.5 - x, one(), real())

spec("Mul", "same-shape", lambda a, b: a * b, lambda a, b: a * b, same(2), real(), real())
spec("Mul", "broadcast", lambda a, b: a * b, lambda a, b: a * b,
     lambda d: ((d(1, 3), 1, d(1, 4)), (d(1, 3), 1)), real(), real())
spec("Mul", "shared-input", lambda x: x * x * x, lambda x: x * x * x, one(), real())
spec("Mul", "scalar", lambda x: 3.0 * x * -0.5, lambda x: 3.0 * x * -0.5, one(), real())

spec("Div", "same-shape", lambda a, b: a / b, lambda a, b: a / b, same(2), real(), nonzero(0.5))
spec("Div", "broadcast", lambda a, b: a / b, lambda a, b: a / b,
     lambda d: (lambda m, n: ((m, n), (m, 1)))(*dims(d, 2)), real(), positive())
spec("Div", "rdiv-scalar", lambda x: 1.0 / x, lambda x: 1.0 / x, one(), nonzero(0.5))
spec("Div", "numerator-constant", lambda a, b: a / b, lambda a, b: a / b, same(2),
     const(real()), positive())

spec("Neg", "unary-minus", lambda x: -x, lambda x: -x, one(3), real())

spec("Pow", "square", lambda x: x ** 2, lambda x: x ** 2, one(), real())
spec("Pow", "cube-method", lambda x: x.pow(3), lambda x: x.pow(3), one(), real())
spec("Pow", "sqrt-exponent", lambda x: x ** 0.5, lambda x: x ** 0.5, one(), positive())
spec("Pow", "negative-exponent", lambda x: x ** -1.5, lambda x: x ** -1.5, one(), positive())
spec("Pow", "tensor-exponent", lambda a, b: a ** b, lambda a, b: a ** b, same(2),
     positive(), real())
spec("Pow", "tensor-exponent-broadcast", lambda a, b: gw.ops.pow(a, b), lambda a, b: torch.pow(a, b),
     lambda d: (lambda m, n: ((m, n), (n,)))(*dims(d, 2)), positive(), real())
spec("Pow", "rpow-scalar-base", lambda x: 2.0 ** x, lambda x: 2.0 ** x, one(), real())

spec("MatMul", "2d", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda m, k, n: ((m, k), (k, n)))(*dims(d, 3)), real(), real())
spec("MatMul", "batched-broadcast", lambda a, b: gw.matmul(a, b), lambda a, b: torch.matmul(a, b),
     lambda d: (lambda b1, b2, m, k, n: ((b1, 1, m, k), (b2, k, n)))(*dims(d, 5, 1, 3)),
     real(), real())
spec("MatMul", "batched-2d", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda b1, m, k, n: ((b1, m, k), (k, n)))(*dims(d, 4, 1, 3)), real(), real())
spec("MatMul", "1d@2d", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda k, n: ((k,), (k, n)))(*dims(d, 2)), real(), real())
spec("MatMul", "2d@1d", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda m, k: ((m, k), (k,)))(*dims(d, 2)), real(), real())
spec("MatMul", "1d@1d", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda k: ((k,), (k,)))(d(1, 5)), real(), real())
spec("MatMul", "batched@1d", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda b1, m, k: ((b1, m, k), (k,)))(*dims(d, 3, 1, 3)), real(), real())
spec("MatMul", "1d@batched", lambda a, b: a.matmul(b), lambda a, b: a.matmul(b),
     lambda d: (lambda b1, k, n: ((k,), (b1, k, n)))(*dims(d, 3, 1, 3)), real(), real())
spec("MatMul", "constant-left", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda m, k, n: ((m, k), (k, n)))(*dims(d, 3)), const(real()), real())
# an inner dimension of 1 (the product forward, dB of one row) is an outer product (kernels.matmul)
spec("MatMul", "outer", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: ((d(1, 4), 1), (1, d(1, 4))), real(), real())
spec("MatMul", "batched-outer", lambda a, b: gw.matmul(a, b), lambda a, b: torch.matmul(a, b),
     lambda d: ((d(1, 3), 1, d(1, 4), 1), (d(1, 3), 1, d(1, 4))), real(), real())
spec("MatMul", "one-row", lambda a, b: a @ b, lambda a, b: a @ b,
     lambda d: (lambda k, n: ((1, k), (k, n)))(*dims(d, 2)), real(), real())

# ---- elementwise math --------------------------------------------------------------------
spec("Exp", "method", lambda x: x.exp(), lambda x: x.exp(), one(3), real())
spec("Exp", "function", lambda x: gw.exp(x), lambda x: torch.exp(x), one(), real(2.0))
spec("Log", "positive", lambda x: gw.log(x), lambda x: torch.log(x), one(3), positive(0.1, 3.0))
spec("Sqrt", "positive", lambda x: x.sqrt(), lambda x: x.sqrt(), one(3), positive(0.1, 3.0))
spec("Sin", "function", lambda x: gw.sin(x), lambda x: torch.sin(x), one(3), real(2.0))
spec("Sin", "method", lambda x: x.sin(), lambda x: x.sin(), one(), real(4.0))
spec("Cos", "function", lambda x: gw.cos(x), lambda x: torch.cos(x), one(3), real(2.0))
spec("Cos", "method", lambda x: x.cos(), lambda x: x.cos(), one(), real(4.0))
spec("Abs", "away-from-0", lambda x: abs(x), lambda x: abs(x), one(3), nonzero())
spec("Abs", "function", lambda x: gw.abs(x), lambda x: torch.abs(x), one(), nonzero())
spec("Cast", "via-float64-and-back", lambda x: x.double().astype(x.dtype),
     lambda x: x.double().to(x.dtype), one(3), real())
spec("Cast", "via-longdouble-and-back", lambda x: gw.ops.astype(x, np.longdouble).astype(x.dtype),
     lambda x: x.clone(), one(), real())
spec("Clip", "both-bounds", lambda x: x.clip(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), one(3),
     away(-0.5, 0.5))
spec("Clip", "min-only", lambda x: gw.clamp(x, min=0.2), lambda x: torch.clamp(x, min=0.2), one(),
     away(0.2))
spec("Clip", "max-only", lambda x: x.clamp(max=-0.1), lambda x: x.clamp(max=-0.1), one(),
     away(-0.1))
spec("Maximum", "same-shape", lambda a, b: gw.maximum(a, b), lambda a, b: torch.maximum(a, b),
     same(2), grid(0.05), grid(0.0))
spec("Maximum", "broadcast", lambda a, b: a.maximum(b), lambda a, b: a.maximum(b),
     lambda d: (lambda m, n: ((m, n), (m, 1)))(*dims(d, 2)), grid(0.0), grid(0.05))
spec("Maximum", "with-scalar-0", lambda x: gw.maximum(x, 0.0),
     lambda x: torch.maximum(x, x.new_tensor(0.0)), one(), grid(0.05))
spec("Minimum", "same-shape", lambda a, b: gw.minimum(a, b), lambda a, b: torch.minimum(a, b),
     same(2), grid(0.05), grid(0.0))
spec("Minimum", "broadcast", lambda a, b: a.minimum(b), lambda a, b: a.minimum(b),
     lambda d: (lambda m, n: ((n,), (m, n)))(*dims(d, 2)), grid(0.0), grid(0.05))
spec("Where", "same-shape", lambda c, a, b: gw.where(c, a, b), lambda c, a, b: torch.where(c, a, b),
     same(3), const(mask()), real(), real())
spec("Where", "broadcast", lambda c, a, b: gw.where(c, a, b), lambda c, a, b: torch.where(c, a, b),
     lambda d: (lambda m, n: ((m, 1), (m, n), (n,)))(*dims(d, 2)), const(mask()), real(), real())
spec("Where", "scalar-other", lambda c, a: gw.where(c, a, 0.0), lambda c, a: torch.where(c, a, 0.0),
     same(2), const(mask()), real())


# ---- reductions --------------------------------------------------------------------------
def _tdim(x, axis):
    return tuple(range(x.ndim)) if axis is None else axis


def _axes_id(axis, keep):
    a = "None" if axis is None else (str(axis) if isinstance(axis, int) else "-".join(map(str, axis)))
    return f"axis={a}-keep={keep}"


_AXES = [(None, False), (None, True), (1, False), (-1, True), ((0, 2), False), ((0, -1), True),
         ((-2,), False)]

for _op, _gw, _th in [
    ("Sum", "sum", lambda x, a, k: x.sum(dim=_tdim(x, a), keepdim=k)),
    ("Mean", "mean", lambda x, a, k: x.mean(dim=_tdim(x, a), keepdim=k)),
    ("Max", "max", lambda x, a, k: torch.amax(x, dim=_tdim(x, a), keepdim=k)),
    ("Min", "min", lambda x, a, k: torch.amin(x, dim=_tdim(x, a), keepdim=k)),
]:
    dom = distinct() if _op in ("Max", "Min") else real()
    for _axis, _keep in _AXES:
        spec(_op, _axes_id(_axis, _keep),
             lambda x, m=_gw, a=_axis, k=_keep: getattr(x, m)(axis=a, keepdims=k),
             lambda x, f=_th, a=_axis, k=_keep: f(x, a, k), one(3), dom)
    # the PyTorch spelling, and the module-level function
    spec(_op, "dim=1-keepdim", lambda x, m=_gw: getattr(x, m)(dim=1, keepdim=True),
         lambda x, f=_th: f(x, 1, True), one(3), dom)
    spec(_op, "function-axis=0", lambda x, m=_gw: getattr(gw, m)(x, 0),
         lambda x, f=_th: f(x, 0, False), one(2), dom)
    spec(_op, "1d", lambda x, m=_gw: getattr(x, m)(), lambda x, f=_th: f(x, None, False),
         lambda d: ((d(1, 6),),), dom)

for _axis, _keep in _AXES:
    spec("Var", _axes_id(_axis, _keep), lambda x, a=_axis, k=_keep: x.var(axis=a, keepdims=k),
         lambda x, a=_axis, k=_keep: torch.var(x, dim=_tdim(x, a), keepdim=k), one(3, 2, 4), real(),
         f32_rtol=1e-3)
spec("Var", "correction=0", lambda x: gw.var(x, axis=0, correction=0),
     lambda x: torch.var(x, dim=0, correction=0), one(2, 1, 4), real(), f32_rtol=1e-3)
spec("Var", "correction=0-dim", lambda x: x.var(dim=(1, 2), correction=0, keepdim=True),
     lambda x: torch.var(x, dim=(1, 2), unbiased=False, keepdim=True), one(3, 1, 4), real(),
     f32_rtol=1e-3)
spec("Var", "correction=2", lambda x: x.var(axis=-1, correction=2),
     lambda x: torch.var(x, dim=-1, correction=2), one(2, 3, 5), real(), f32_rtol=1e-3)

# ---- shape -------------------------------------------------------------------------------
spec("Reshape", "flat", lambda x: x.reshape(-1), lambda x: x.reshape(-1), one(3), real())
spec("Reshape", "infer-axis", lambda x: x.reshape(x.shape[0], -1), lambda x: x.reshape(x.shape[0], -1),
     one(3), real())
spec("Reshape", "function-tuple", lambda x: gw.reshape(x, (x.shape[2], -1)),
     lambda x: torch.reshape(x, (x.shape[2], -1)), one(3), real())
spec("Reshape", "view", lambda x: x.view(x.shape[1], x.shape[0]), lambda x: x.view(x.shape[1], x.shape[0]),
     one(2), real())
spec("Reshape", "flatten", lambda x: x.flatten(1), lambda x: x.flatten(1), one(3), real())
spec("Reshape", "unsqueeze", lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1), one(2), real())
spec("Reshape", "squeeze", lambda x: x.squeeze(1), lambda x: x.squeeze(1),
     lambda d: ((d(1, 4), 1, d(1, 4)),), real())
spec("Permute", "method", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), one(3), real())
spec("Permute", "negative-dims", lambda x: gw.permute(x, (-1, 0, 1)), lambda x: torch.permute(x, (-1, 0, 1)),
     one(3), real())
spec("Permute", "transpose", lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), one(3), real())
spec("Permute", "T-2d", lambda x: x.T, lambda x: x.T, one(2), real())
spec("Permute", "T-reverses-all", lambda x: x.T, lambda x: x.permute(2, 1, 0), one(3), real())
spec("BroadcastTo", "new-and-size-1-axes", lambda x: x.broadcast_to((2,) + x.shape[:-1] + (3,)),
     lambda x: x.broadcast_to((2,) + x.shape[:-1] + (3,)), lambda d: ((d(1, 3), 1),), real())
spec("BroadcastTo", "function", lambda x: gw.broadcast_to(x, (3, x.shape[0], 2)),
     lambda x: torch.broadcast_to(x, (3, x.shape[0], 2)), lambda d: ((d(1, 3), 1),), real())
spec("BroadcastTo", "expand", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4),
     lambda d: ((d(1, 3), 1),), real())


def _cat_shapes(n, axis, k=3):
    def shapes(draw):
        base = list(dims(draw, k))
        out = []
        for _ in range(n):
            s = list(base)
            s[axis] = draw(1, 3)
            out.append(tuple(s))
        return out
    return shapes


spec("Concatenate", "axis=0", lambda a, b: gw.concatenate([a, b]), lambda a, b: torch.cat([a, b]),
     _cat_shapes(2, 0), real(), real())
spec("Concatenate", "axis=1-three", lambda a, b, c: gw.cat([a, b, c], axis=1),
     lambda a, b, c: torch.cat([a, b, c], dim=1), _cat_shapes(3, 1), real(), real(), real())
spec("Concatenate", "dim=-1", lambda a, b: gw.cat((a, b), dim=-1), lambda a, b: torch.cat((a, b), dim=-1),
     _cat_shapes(2, -1), real(), real())
spec("Concatenate", "one-constant", lambda a, b: gw.cat([a, b], axis=1),
     lambda a, b: torch.cat([a, b], dim=1), _cat_shapes(2, 1, 2), real(), const(real()))
spec("Stack", "axis=0", lambda a, b: gw.stack([a, b]), lambda a, b: torch.stack([a, b]),
     same(2), real(), real())
spec("Stack", "axis=1-three", lambda a, b, c: gw.stack([a, b, c], axis=1),
     lambda a, b, c: torch.stack([a, b, c], dim=1), same(3), real(), real(), real())
spec("Stack", "dim=-1", lambda a, b: gw.stack((a, b), dim=-1), lambda a, b: torch.stack((a, b), dim=-1),
     same(2, 3), real(), real())
spec("Pad", "numpy-pairs", lambda x: gw.pad(x, ((1, 2), (0, 3))), lambda x: tF.pad(x, (0, 3, 1, 2)),
     one(2), real())
spec("Pad", "int", lambda x: gw.pad(x, 1), lambda x: tF.pad(x, (1, 1) * x.ndim), one(3), real())
spec("Pad", "one-pair-all-axes", lambda x: gw.pad(x, (2, 1)), lambda x: tF.pad(x, (2, 1) * x.ndim),
     one(2), real())
spec("Pad", "value", lambda x: gw.pad(x, ((0, 1), (2, 0), (1, 1)), value=0.5),
     lambda x: tF.pad(x, (1, 1, 2, 0, 0, 1), value=0.5), one(3), real())

spec("GetItem", "slices", lambda x: x[1:, ::2], lambda x: x[1:, ::2], one(2, 2, 5), real())
spec("GetItem", "negative-step", lambda x: x[::-1, 1:-1],  # torch has no negative steps
     lambda x: torch.flip(x, (0,))[:, 1:-1], one(2, 1, 5), real())
spec("GetItem", "int-and-ellipsis-newaxis", lambda x: x[..., None, 1], lambda x: x[..., None, 1],
     one(3, 2, 4), real())
spec("GetItem", "int", lambda x: x[1], lambda x: x[1], one(2, 2, 4), real())
spec("GetItem", "int-array-repeated", lambda x, i: x[i], lambda x, i: x[i],
     lambda d: ((d(1, 4), d(1, 3)), (d(3, 6),)), real(), const(index(0, 0)))
spec("GetItem", "int-array-axis-1", lambda x, i: x[:, i], lambda x, i: x[:, i],
     lambda d: ((d(1, 3), d(1, 4), d(1, 2)), (d(3, 5),)), real(), const(index(0, 1)))
spec("GetItem", "two-int-arrays", lambda x, i, j: x[i, j], lambda x, i, j: x[i, j],
     lambda d: (lambda k: ((d(1, 4), d(1, 4)), (k,), (k,)))(d(3, 6)),
     real(), const(index(0, 0)), const(index(0, 1)))
spec("GetItem", "int-array-2d", lambda x, i: x[i], lambda x, i: x[i],
     lambda d: ((d(1, 4), d(1, 3)), (d(1, 3), d(2, 3))), real(), const(index(0, 0)))
spec("GetItem", "bool-mask-full", lambda x, m: x[m], lambda x, m: x[m], same(2, 2), real(), const(mask()))
spec("GetItem", "bool-mask-axis-0", lambda x, m: x[m], lambda x, m: x[m],
     lambda d: (lambda a, b: ((a, b), (a,)))(*dims(d, 2)), real(), const(mask()))

# ---- activations -------------------------------------------------------------------------
spec("Step", "away-from-0", lambda z: F.step(z), lambda z: (z > 0).to(z.dtype) + 0 * z, one(), nonzero())
spec("Sigmoid", "wide", lambda z: F.sigmoid(z), lambda z: torch.sigmoid(z), one(3), real(4.0))
spec("Tanh", "wide", lambda z: F.tanh(z), lambda z: torch.tanh(z), one(3), real(2.0))
spec("ReLU", "away-from-0", lambda z: F.relu(z), lambda z: tF.relu(z), one(3), nonzero())
spec("LeakyReLU", "default-slope", lambda z: F.leaky_relu(z), lambda z: tF.leaky_relu(z, 0.01),
     one(3), nonzero())
spec("LeakyReLU", "slope-0.2", lambda z: F.leaky_relu(z, 0.2), lambda z: tF.leaky_relu(z, 0.2),
     one(), nonzero())
spec("Softmax", "last-axis", lambda z: F.softmax(z), lambda z: tF.softmax(z, dim=-1), one(2), real(3.0))
spec("Softmax", "axis=0", lambda z: F.softmax(z, axis=0), lambda z: tF.softmax(z, dim=0), one(2), real(3.0))
spec("Softmax", "dim=1-3d", lambda z: F.softmax(z, dim=1), lambda z: tF.softmax(z, dim=1), one(3), real(3.0))
spec("LogSoftmax", "last-axis", lambda z: F.log_softmax(z), lambda z: tF.log_softmax(z, dim=-1),
     one(2), real(3.0))
spec("LogSoftmax", "axis=0", lambda z: F.log_softmax(z, axis=0), lambda z: tF.log_softmax(z, dim=0),
     one(2), real(3.0))
spec("LogSoftmax", "dim=1-3d", lambda z: F.log_softmax(z, dim=1), lambda z: tF.log_softmax(z, dim=1),
     one(3), real(3.0))
spec("Sigmoid", "method", lambda z: z.sigmoid(), lambda z: z.sigmoid(), one(), real(4.0))
spec("Tanh", "method", lambda z: z.tanh(), lambda z: z.tanh(), one(), real(2.0))
spec("ReLU", "method", lambda z: z.relu(), lambda z: z.relu(), one(), nonzero())
spec("Softmax", "method-dim=0", lambda z: z.softmax(dim=0), lambda z: z.softmax(dim=0), one(2), real(3.0))
spec("LogSoftmax", "method", lambda z: z.log_softmax(1), lambda z: z.log_softmax(1), one(2), real(3.0))
spec("Softplus", "wide", lambda z: F.softplus(z), lambda z: tF.softplus(z), one(3), real(4.0))

# ---- losses ------------------------------------------------------------------------------
def _mC(draw):
    return draw(1, 5), draw(2, 5)


for _r in REDUCTIONS:
    spec("MSELoss", f"both-inputs-{_r}", lambda a, b, r=_r: F.mse_loss(a, b, reduction=r),
         lambda a, b, r=_r: tF.mse_loss(a, b, reduction=r), same(2), real(), real())
    spec("CrossEntropy", f"labels-{_r}", lambda z, t, r=_r: F.cross_entropy(z, t, reduction=r),
         lambda z, t, r=_r: tF.cross_entropy(z, t, reduction=r),
         lambda d: (lambda m, C: ((m, C), (m,)))(*_mC(d)), real(3.0), const(labels(0, 1)))
    spec("CrossEntropy", f"probabilities-{_r}", lambda z, t, r=_r: F.cross_entropy(z, t, reduction=r),
         lambda z, t, r=_r: tF.cross_entropy(z, t, reduction=r),
         lambda d: (lambda m, C: ((m, C), (m, C)))(*_mC(d)), real(3.0), const(dist()))
    spec("NLLLoss", f"labels-{_r}", lambda a, t, r=_r: F.nll_loss(a, t, reduction=r),
         lambda a, t, r=_r: tF.nll_loss(a, t, reduction=r),
         lambda d: (lambda m, C: ((m, C), (m,)))(*_mC(d)), real(), const(labels(0, 1)))
    spec("BinaryCrossEntropy", f"soft-targets-{_r}",
         lambda p, y, r=_r: F.binary_cross_entropy(p, y, reduction=r),
         lambda p, y, r=_r: tF.binary_cross_entropy(p, y, reduction=r),
         same(2), prob(), const(uniform(0, 1)))
    spec("BCEWithLogits", f"{_r}", lambda z, y, r=_r: F.binary_cross_entropy_with_logits(z, y, reduction=r),
         lambda z, y, r=_r: tF.binary_cross_entropy_with_logits(z, y, reduction=r),
         same(2), real(3.0), const(uniform(0, 1)))

spec("MSELoss", "constant-target", lambda a, b: F.mse_loss(a, b), lambda a, b: tF.mse_loss(a, b),
     same(2, 3), real(), const(real()))
spec("CrossEntropy", "unnormalized-soft-targets", lambda z, t: F.cross_entropy(z, t),
     lambda z, t: tF.cross_entropy(z, t), lambda d: (lambda m, C: ((m, C), (m, C)))(*_mC(d)),
     real(3.0), const(uniform(0, 1)))
spec("NLLLoss", "after-log-softmax", lambda z, t: F.nll_loss(F.log_softmax(z, axis=1), t),
     lambda z, t: tF.nll_loss(tF.log_softmax(z, dim=1), t),
     lambda d: (lambda m, C: ((m, C), (m,)))(*_mC(d)), real(3.0), const(labels(0, 1)))
spec("BinaryCrossEntropy", "binary-targets-1d", lambda p, y: F.binary_cross_entropy(p, y),
     lambda p, y: tF.binary_cross_entropy(p, y), lambda d: ((d(1, 8),),) * 2, prob(), const(binary()))
spec("BCEWithLogits", "binary-targets-1d", lambda z, y: F.binary_cross_entropy_with_logits(z, y),
     lambda z, y: tF.binary_cross_entropy_with_logits(z, y), lambda d: ((d(1, 8),),) * 2,
     real(3.0), const(binary()))

# ---- the dense layer, dropout, batch norm ------------------------------------------------
def _linear_shapes(lead=1, bias=True):
    def shapes(draw):
        n_in, n_out = draw(1, 4), draw(1, 4)
        x = dims(draw, lead, 1, 3) + (n_in,)
        return ((x, (n_out, n_in), (n_out,)) if bias else (x, (n_out, n_in)))
    return shapes


spec("Linear", "2d-bias", lambda X, W, b: F.linear(X, W, b), lambda X, W, b: tF.linear(X, W, b),
     _linear_shapes(1), real(), real(), real())
spec("Linear", "no-bias", lambda X, W: F.linear(X, W), lambda X, W: tF.linear(X, W),
     _linear_shapes(1, bias=False), real(), real())
spec("Linear", "input-layer", lambda X, W, b: F.linear(X, W, b), lambda X, W, b: tF.linear(X, W, b),
     _linear_shapes(1), const(real()), real(), real())
spec("Linear", "3d-input", lambda X, W, b: F.linear(X, W, b), lambda X, W, b: tF.linear(X, W, b),
     _linear_shapes(2), real(), real(), real())
spec("Linear", "1d-input", lambda X, W, b: F.linear(X, W, b), lambda X, W, b: tF.linear(X, W, b),
     _linear_shapes(0), real(), real(), real())


def _linear_ones(axis):
    """A batch of 1 (dW an outer product), one input (Z one) or one output (dX one)."""
    def shapes(draw):
        m, n_in, n_out = (1 if a == axis else draw(1, 4) for a in ("batch", "in", "out"))
        return (m, n_in), (n_out, n_in), (n_out,)
    return shapes


for _axis in ("batch", "in", "out"):
    spec("Linear", f"one-{_axis}", lambda X, W, b: F.linear(X, W, b),
         lambda X, W, b: tF.linear(X, W, b), _linear_ones(_axis), real(), real(), real())

spec("Dropout", "p=0.25-fixed-mask", lambda A, M: F.dropout(A, 0.25, mask=M),
     lambda A, M: A * M / 0.75, same(2, 2), real(), const(mask(0.75)))
spec("Dropout", "p=0.5-3d", lambda A, M: F.dropout(A, p=0.5, training=True, mask=M),
     lambda A, M: A * M / 0.5, same(2, 3), real(), const(mask(0.5)))


def _bn_shapes(spatial, stats):
    """Training mode needs 3+ values per channel: with 2, Xhat = +-1 whatever X is, so
    dX ~ 0 and the relative difference measures only round-off."""
    def shapes(draw):
        C = draw(1, 3)
        X = (draw(3, 4), C) if spatial == 0 else (draw(1, 3), C) + dims(draw, spatial, 2, 3)
        return (X, (C,), (C,)) + (((C,), (C,)) if stats else ())
    return shapes


spec("BatchNorm", "train-2d", lambda X, w, b: F.batch_norm(X, None, None, w, b, training=True),
     lambda X, w, b: tF.batch_norm(X, None, None, w, b, training=True),
     _bn_shapes(0, False), real(2.0), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
spec("BatchNorm", "train-4d", lambda X, w, b: F.batch_norm(X, None, None, w, b),
     lambda X, w, b: tF.batch_norm(X, None, None, w, b, training=True),
     _bn_shapes(2, False), real(2.0), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
spec("BatchNorm", "eval-2d",
     lambda X, w, b, rm, rv: F.batch_norm(X, rm, rv, w, b, training=False),
     lambda X, w, b, rm, rv: tF.batch_norm(X, rm, rv, w, b, training=False),
     _bn_shapes(0, True), real(), real(), real(), const(real()), const(positive()))
spec("BatchNorm", "eval-4d",
     lambda X, w, b, rm, rv: F.batch_norm(X, rm, rv, w, b, training=False),
     lambda X, w, b, rm, rv: tF.batch_norm(X, rm, rv, w, b, training=False),
     _bn_shapes(2, True), real(), real(), real(), const(real()), const(positive()))


# ---- convolution and pooling (NCHW) ------------------------------------------------------
def _conv_shapes(stride=1, pad=0, dil=1, bias=True, same_pad=False, filters=(1, 3)):
    def shapes(draw):
        m, C, F_ = draw(1, 2), draw(1, 2), draw(*filters)
        fh, fw = draw(1, 3), draw(1, 3)
        hw = []
        for f in (fh, fw):
            p = (dil * (f - 1)) // 2 if same_pad else pad
            need = max(1, dil * (f - 1) + 1 - 2 * p)
            hw.append(draw(need, need + 3))
        X, W = (m, C, *hw), (F_, C, fh, fw)
        return (X, W, (F_,)) if bias else (X, W)
    return shapes


for _name, _kw in [("plain", {}), ("stride-2-pad-1", dict(stride=2, padding=1)),
                   ("dilation-2", dict(dilation=2)), ("stride-pad-pairs", dict(stride=(2, 1), padding=(0, 1)))]:
    _p = _kw.get("padding", 0)
    spec("Conv2d", _name, lambda X, W, b, kw=_kw: F.conv2d(X, W, b, **kw),
         lambda X, W, b, kw=_kw: tF.conv2d(X, W, b, **kw),
         _conv_shapes(stride=1, pad=min(_p) if isinstance(_p, tuple) else _p, dil=_kw.get("dilation", 1)),
         real(), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
# more filters than kernels.DIRECT_MAX_FILTERS: the GEMM on im2col's columns (fewer: the direct sum)
_MANY = (gw.kernels.DIRECT_MAX_FILTERS + 1, gw.kernels.DIRECT_MAX_FILTERS + 3)
for _name, _kw in [("many-filters", {}), ("many-filters-stride-2-pad-1", dict(stride=2, padding=1))]:
    spec("Conv2d", _name, lambda X, W, b, kw=_kw: F.conv2d(X, W, b, **kw),
         lambda X, W, b, kw=_kw: tF.conv2d(X, W, b, **kw),
         _conv_shapes(pad=_kw.get("padding", 0), filters=_MANY),
         real(), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
spec("Conv2d", "no-bias-same", lambda X, W: F.conv2d(X, W, padding="same"),
     lambda X, W: tF.conv2d(X, W, padding="same"), _conv_shapes(bias=False, same_pad=True),
     real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
def _even_same_shapes(draw):
    """Even kernels (2 or 4) under 'same' padding: the extra row and column at the bottom/right."""
    m, C, F_ = draw(1, 2), draw(1, 2), draw(1, 3)
    fh, fw = 2 * draw(1, 2), 2 * draw(1, 2)
    return (m, C, draw(1, 5), draw(1, 5)), (F_, C, fh, fw), (F_,)


spec("Conv2d", "even-kernel-same", lambda X, W, b: F.conv2d(X, W, b, padding="same"),
     lambda X, W, b: tF.conv2d(X, W, b, padding="same"), _even_same_shapes,
     real(), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
spec("Conv2d", "input-layer", lambda X, W, b: F.conv2d(X, W, b), lambda X, W, b: tF.conv2d(X, W, b),
     _conv_shapes(), const(real()), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
# products of inner dimension 1: dX of one filter; the GEMM path's Z of a 1 x 1 filter on one
# channel without bias, and its dW of one output pixel at batch 1
spec("Conv2d", "one-filter", lambda X, W, b: F.conv2d(X, W, b), lambda X, W, b: tF.conv2d(X, W, b),
     _conv_shapes(filters=(1, 1)), real(), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
spec("Conv2d", "many-filters-1x1-one-channel", lambda X, W: F.conv2d(X, W),
     lambda X, W: tF.conv2d(X, W), lambda d: ((d(1, 2), 1, d(1, 4), d(1, 4)), (d(*_MANY), 1, 1, 1)),
     real(), real(), f32_rtol=1e-3, f32_atol=1e-4)
spec("Conv2d", "many-filters-one-pixel-batch-1", lambda X, W, b: F.conv2d(X, W, b),
     lambda X, W, b: tF.conv2d(X, W, b),
     lambda d: (lambda F_, C, f: ((1, C, f, f), (F_, C, f, f), (F_,)))(d(*_MANY), d(1, 2), d(1, 3)),
     real(), real(), real(), f32_rtol=1e-3, f32_atol=1e-4)


def _pool_shapes(lo=2, hi=6):
    return lambda d: ((d(1, 2), d(1, 2), d(lo, hi), d(lo, hi)),)


spec("MaxPool2d", "2x2", lambda X: F.max_pool2d(X, 2), lambda X: tF.max_pool2d(X, 2),
     _pool_shapes(), distinct())
spec("MaxPool2d", "3x3-stride-1-overlap", lambda X: F.max_pool2d(X, 3, stride=1),
     lambda X: tF.max_pool2d(X, 3, stride=1), _pool_shapes(3, 6), distinct())
spec("MaxPool2d", "3x3-stride-2-pad-1", lambda X: F.max_pool2d(X, 3, stride=2, padding=1),
     lambda X: tF.max_pool2d(X, 3, stride=2, padding=1), _pool_shapes(2, 6), distinct())
spec("MaxPool2d", "2x3-kernel-pair", lambda X: F.max_pool2d(X, (2, 3), stride=(1, 2)),
     lambda X: tF.max_pool2d(X, (2, 3), stride=(1, 2)), _pool_shapes(3, 6), distinct())
spec("AvgPool2d", "2x2", lambda X: F.avg_pool2d(X, 2), lambda X: tF.avg_pool2d(X, 2),
     _pool_shapes(), real())
spec("AvgPool2d", "3x3-stride-1-overlap", lambda X: F.avg_pool2d(X, 3, stride=1),
     lambda X: tF.avg_pool2d(X, 3, stride=1), _pool_shapes(3, 6), real())
spec("AvgPool2d", "3x3-stride-2-pad-1", lambda X: F.avg_pool2d(X, 3, stride=2, padding=1),
     lambda X: tF.avg_pool2d(X, 3, stride=2, padding=1), _pool_shapes(2, 6), real())


# ---- sequence models: recurrent layers, embedding, layer norm ---------------------------
def _rnn_shapes(gates, bias=True, lstm=False):
    """X (T, N, D), a0 (N, H) [, c0], W_ih (kH, D), W_hh (kH, H) [, b_ih, b_hh (kH,)]."""
    def shapes(draw):
        T, N, D, H = draw(1, 4), draw(1, 3), draw(1, 3), draw(1, 3)
        state = ((N, H), (N, H)) if lstm else ((N, H),)
        weights = ((gates * H, D), (gates * H, H)) + (((gates * H,),) * 2 if bias else ())
        return ((T, N, D),) + state + weights
    return shapes


def _torch_loop(cell, X, h, *weights):
    """A recurrent layer in torch, one torch.*_cell per step: the reference for the fused ops."""
    out = []
    for x in X:
        h = cell(x, h, *weights)
        out.append(torch.cat(h, dim=-1) if isinstance(h, tuple) else h)
    return torch.stack(out)


_recurrent = importlib.import_module("gradwise.ops.recurrent")
for _b in (True, False):
    _tag = "bias" if _b else "no-bias"
    _n = 6 if _b else 4
    spec("RNN", f"tanh-{_tag}", lambda X, a, *W: _recurrent.RNN()(X, a, *W),
         lambda X, a, *W: _torch_loop(torch.rnn_tanh_cell, X, a, *W), _rnn_shapes(1, _b),
         *[real()] * _n)
    spec("LSTM", _tag, lambda X, a, c, *W: _recurrent.LSTM()(X, a, c, *W),
         lambda X, a, c, *W: _torch_loop(torch.lstm_cell, X, (a, c), *W),
         _rnn_shapes(4, _b, lstm=True), *[real()] * (_n + 1))
    spec("GRU", _tag, lambda X, a, *W: _recurrent.GRU()(X, a, *W),
         lambda X, a, *W: _torch_loop(torch.gru_cell, X, a, *W), _rnn_shapes(3, _b), *[real()] * _n)
spec("RNN", "relu", lambda X, a, *W: _recurrent.RNN("relu")(X, a, *W),
     lambda X, a, *W: _torch_loop(torch.rnn_relu_cell, X, a, *W), _rnn_shapes(1), *[nonzero()] * 6)
spec("RNN", "input-layer", lambda X, a, *W: _recurrent.RNN()(X, a, *W),
     lambda X, a, *W: _torch_loop(torch.rnn_tanh_cell, X, a, *W), _rnn_shapes(1),
     const(real()), const(real()), real(), real(), real(), real())
spec("RNN", "one-input-one-step", lambda X, a, *W: _recurrent.RNN()(X, a, *W),   # outer products
     lambda X, a, *W: _torch_loop(torch.rnn_tanh_cell, X, a, *W),
     lambda d: (lambda H: ((1, 1, 1), (1, H), (H, 1), (H, H), (H,), (H,)))(d(1, 3)), *[real()] * 6)

spec("Embedding", "repeated-indices", lambda E, i: F.embedding(i, E), lambda E, i: tF.embedding(i, E),
     lambda d: ((d(1, 5), d(1, 3)), (d(3, 6),)), real(), const(labels(0, 0)))
spec("Embedding", "2d-indices", lambda E, i: F.embedding(i, E), lambda E, i: tF.embedding(i, E),
     lambda d: ((d(1, 5), d(1, 3)), (d(1, 3), d(2, 4))), real(), const(labels(0, 0)))


def _ln_shapes(k, affine=True):
    def shapes(draw):
        lead, feat = dims(draw, 2, 1, 3), dims(draw, k, 2, 4)
        return ((lead + feat,) + ((feat, feat) if affine else ()))
    return shapes


spec("LayerNorm", "last-axis", lambda X, w, b: F.layer_norm(X, X.shape[-1:], w, b),
     lambda X, w, b: tF.layer_norm(X, X.shape[-1:], w, b), _ln_shapes(1), real(2.0), real(), real(),
     f32_rtol=1e-3, f32_atol=1e-4)
spec("LayerNorm", "last-two-axes", lambda X, w, b: F.layer_norm(X, X.shape[-2:], w, b),
     lambda X, w, b: tF.layer_norm(X, X.shape[-2:], w, b), _ln_shapes(2), real(2.0), real(), real(),
     f32_rtol=1e-3, f32_atol=1e-4)
spec("LayerNorm", "no-affine", lambda X: F.layer_norm(X, X.shape[-1:]),
     lambda X: tF.layer_norm(X, X.shape[-1:]), _ln_shapes(1, affine=False), real(2.0),
     f32_rtol=1e-3, f32_atol=1e-4)
spec("LayerNorm", "weight-only", lambda X, w: F.layer_norm(X, X.shape[-1:], w),
     lambda X, w: tF.layer_norm(X, X.shape[-1:], w),
     lambda d: (lambda s: (s, s[-1:]))(dims(d, 2, 1, 3) + (d(2, 4),)), real(2.0), real(),
     f32_rtol=1e-3, f32_atol=1e-4)


def covered_ops() -> set:
    return {s.op for s in SPECS}


_ids = [s.id for s in SPECS]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})
