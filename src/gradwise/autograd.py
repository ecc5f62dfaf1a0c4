"""Function and the backward engine: define-by-run reverse-mode differentiation.

An op is a subclass of `Function` with two methods side by side:
    forward(*arrays)  -> array          computes Z from its inputs, saves what backward needs
    backward(dZ)      -> (dX1, dX2, ...) the gradient of the loss w.r.t. each input

Calling an op records it in the graph (when grad mode is on and an input requires grad):
the output tensor's `creator` is the Function, which keeps its input tensors.
`run_backward` then visits the Functions in reverse topological order (iteratively, so
depth is never limited by Python's recursion limit) and accumulates gradients.

Integer and boolean inputs follow PyTorch's rule, applied here in one place: an op whose
values are real numbers even for integer input (exp, log, sqrt, sin, cos, sigmoid, tanh,
softmax, log_softmax, softplus, leaky_relu, mean, var, true division, average pooling,
dropout) sets `float_valued = True`, and Function.__call__ casts its integer and boolean
inputs to the default float dtype (gradwise.get_default_dtype()) before forward; ops that
stay within the integers (+, -, *, abs, relu, step, sum, max, min, clip, indexing, shapes)
keep them. (Integer inputs never need gradients, so backward is not concerned.)

Broadcasting is undone here, in one place: when an op returns a gradient with the shape
of its broadcast output, `sum_to` sums it back to the input's shape. No op does that itself.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from . import backend
from .tensor import Tensor, _wrap, to_numpy


# ---- grad mode --------------------------------------------------------------------------
class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _mode.enabled


class _SetGrad(contextlib.ContextDecorator):
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._prev = []

    def __enter__(self):
        self._prev.append(_mode.enabled)
        _mode.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._prev.pop()
        return False


def no_grad() -> _SetGrad:
    """Context manager and decorator: ops inside record no graph (inference, updates)."""
    return _SetGrad(False)


def enable_grad() -> _SetGrad:
    """Context manager and decorator: turn graph recording back on inside a no_grad block."""
    return _SetGrad(True)


def set_grad_enabled(mode: bool) -> _SetGrad:
    return _SetGrad(bool(mode))


# ---- the op base class ------------------------------------------------------------------
OP_REGISTRY: dict[str, type] = {}
"""Every differentiable op, by class name. The test suite gradchecks each one."""


class Function:
    """Base class of differentiable ops. Subclasses register themselves in OP_REGISTRY.

    After a recorded call, `inputs` holds the input tensors and `needs_grad[i]` tells
    whether input i wants a gradient; backward may return None for inputs that do not.
    """

    inputs: tuple | None = None
    needs_grad: tuple = ()
    _freed = False
    float_valued = False
    """Set True on ops whose value is real for integer input too (see the module docstring):
    their integer and boolean inputs are cast to the default float dtype first."""
    fresh_grads = False
    """Set True on ops whose backward returns only arrays it has just allocated, keeps no
    reference to, and returns at most once each (not the incoming gradient, not a saved
    array). The engine may then hand them to leaves as .grad as they are, without the
    defensive copy that every other op's gradients get."""

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register:
            OP_REGISTRY[cls.__name__] = cls

    def __call__(self, *inputs) -> Tensor:
        try:
            xs = [x.data for x in inputs]
            if self.float_valued:
                xs = [a if a.dtype.kind in "fc" else a.astype(float_dtype(a.dtype)) for a in xs]
            y = self.forward(*xs)
        except (AttributeError, TypeError):
            _check_tensors(self, inputs)  # an array for a Tensor fails above: say so instead
            raise
        out = _wrap(y) if type(y) is np.ndarray else Tensor(y)  # Tensor() converts scalars
        if _mode.enabled:
            try:
                needs = tuple([x._requires_grad for x in inputs])
            except AttributeError:
                _check_tensors(self, inputs)
                raise
            if True in needs:
                out._requires_grad = True
                out.creator = self
                self.inputs = inputs
                self.needs_grad = needs
        return out

    def forward(self, *xs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, gy):  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self) -> None:
        """Drop the saved arrays and inputs once backward has used them."""
        self.__dict__.clear()
        self._freed = True


def _check_tensors(fn: Function, inputs) -> None:
    """Raise a TypeError naming the op and the first input that is not a Tensor. Called only
    after an op failed, so the check costs nothing on the way every op takes."""
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(fn).__name__}: input {i} is a {type(x).__name__}, not a "
                            f"Tensor; make one with gradwise.tensor(...)") from None


def float_dtype(dtype) -> np.dtype:
    """The dtype a float-valued op computes in for input of `dtype`: floating dtypes stay,
    integers and booleans become the default float dtype (Function.float_valued)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else backend.get_default_dtype()


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast gradient back to `shape` (the one place broadcasting is undone)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(g.shape[lead:])
    return g.reshape(shape) if g.shape != shape else g


def _accumulate_leaf(x: Tensor, g: np.ndarray, fresh: bool = False) -> None:
    """Add g into x.grad. Each leaf gets an array of its own: an op may hand the same
    gradient array to two inputs, so g is copied unless it is `fresh` (see
    Function.fresh_grads) or was just made here by a cast, and a sum makes a new array."""
    data = x.data
    if g.dtype != data.dtype or g.shape != data.shape:
        g = np.broadcast_to(g, data.shape).astype(data.dtype)  # astype copies
        fresh = True
    if x.grad is None:
        x.grad = g if fresh else g.copy()
    else:
        x.grad = x.grad + g


# ---- the engine -------------------------------------------------------------------------
_ndarray = np.ndarray


def run_backward(root: Tensor, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from `root`, accumulating into the .grad of leaves that require grad."""
    if not root._requires_grad:
        raise RuntimeError(
            "backward() on a tensor that does not require grad: no input of the computation "
            "had requires_grad=True (or it ran under no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient is only defined for scalar outputs; this "
                f"tensor has shape {root.shape}: pass grad= of that shape, or reduce it first "
                f"(e.g. .sum() or .mean())"
            )
        gy = np.ones_like(root.data)
    else:
        gy = np.asarray(to_numpy(grad), dtype=root.data.dtype)
        if gy.shape != root.shape:
            raise RuntimeError(
                f"backward(): grad has shape {gy.shape} but the tensor has shape {root.shape}"
            )

    if root.creator is None:  # a leaf: d(root)/d(root) is the identity
        _accumulate_leaf(root, gy)
        return
    if root.creator._freed:
        raise RuntimeError(_FREED_MSG)

    # Count, for each Function, how many of its outputs' consumers lie in this graph, so a
    # Function runs only after all gradients flowing into its output have been summed.
    # A Function is in `pending` once it has been reached (the root's creator never is).
    pending: dict[Function, int] = {}
    stack = [root.creator]
    while stack:
        f = stack.pop()
        for x in f.inputs:
            g = x.creator
            if g is not None:
                n = pending.get(g)
                if n is None:
                    if g._freed:
                        raise RuntimeError(_FREED_MSG)
                    pending[g] = 1
                    stack.append(g)
                else:
                    pending[g] = n + 1

    grads: dict[Function, np.ndarray] = {root.creator: gy}
    ready = [root.creator]
    while ready:
        f = ready.pop()
        gxs = f.backward(grads.pop(f))
        if type(gxs) is not tuple:
            gxs = tuple(gxs) if type(gxs) is list else (gxs,)
        fresh, inputs, needs = f.fresh_grads, f.inputs, f.needs_grad
        if len(gxs) != len(inputs):
            raise RuntimeError(_count_message(f, len(gxs), len(inputs)))
        if not retain_graph:
            f.release()  # its saved arrays are no longer needed: free them before the next op
        for i, (x, need, gx) in enumerate(zip(inputs, needs, gxs)):
            if not need:
                continue
            if gx.__class__ is not _ndarray or gx.shape != x.data.shape:
                gx = _fit_grad(f, i, gx, x.data.shape)
            g = x.creator
            if g is None:
                _accumulate_leaf(x, gx, fresh)
                continue
            prev = grads.get(g)
            grads[g] = gx if prev is None else prev + gx
            n = pending[g] - 1
            pending[g] = n
            if n == 0:
                if x._retains_grad:
                    _accumulate_leaf(x, grads[g])
                ready.append(g)
    if root._retains_grad:
        _accumulate_leaf(root, np.ones_like(root.data) if grad is None else np.asarray(grad))


def _count_message(f: Function, n_grads: int, n_inputs: int) -> str:
    return (f"{type(f).__name__}.backward returned {n_grads} gradient{'s' * (n_grads != 1)} for "
            f"{n_inputs} input{'s' * (n_inputs != 1)}: return one per input of forward, in "
            f"order (None for an input that needs none)")


def _fit_grad(f: Function, i: int, gx, shape: tuple) -> np.ndarray:
    """The gradient f.backward returned for input i, checked and summed back to `shape`.
    The engine calls this only when gx is not an ndarray of the input's shape, so the checks
    cost nothing on the usual path."""
    name = f"{type(f).__name__}.backward"
    if gx is None:
        raise RuntimeError(f"{name} returned None for input {i}, which needs a gradient of "
                           f"shape {shape}")
    if isinstance(gx, np.generic):  # NumPy returns scalars for arithmetic on 0-d arrays
        gx = np.asarray(gx)
    elif not isinstance(gx, np.ndarray):
        raise RuntimeError(f"{name} returned a {type(gx).__name__} for input {i}: gradients "
                           f"must be NumPy arrays, of the input's shape {shape}")
    if gx.shape == shape:
        return gx
    if len(gx.shape) < len(shape) or any(
        n != 1 and n != k for n, k in zip(reversed(shape), reversed(gx.shape))
    ):
        raise RuntimeError(f"{name} returned a gradient of shape {gx.shape} for input {i} of "
                           f"shape {shape}: it must have the input's shape, or the shape of a "
                           f"broadcast of it (then it is summed back)")
    return sum_to(gx, shape)


_FREED_MSG = (
    "Trying to backward through the graph a second time: its saved values were freed by the "
    "first backward(). Pass retain_graph=True to the first backward() if you need to call it again."
)
