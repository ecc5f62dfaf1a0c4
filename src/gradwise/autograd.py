"""Function and the backward engine: define-by-run reverse-mode differentiation.

An op is a subclass of `Function` with two methods side by side:
    forward(*arrays)  -> array          computes Z from its inputs, saves what backward needs
    backward(dZ)      -> (dX1, dX2, ...) the gradient of the loss w.r.t. each input

Calling an op records it in the graph (when grad mode is on and an input requires grad):
the output tensor's `creator` is the Function, which keeps its input tensors.
`run_backward` then visits the Functions in reverse topological order (iteratively, so
depth is never limited by Python's recursion limit) and accumulates gradients.

Broadcasting is undone here, in one place: when an op returns a gradient with the shape
of its broadcast output, `sum_to` sums it back to the input's shape. No op does that itself.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from .tensor import Tensor


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

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register:
            OP_REGISTRY[cls.__name__] = cls

    def __call__(self, *inputs) -> Tensor:
        xs = [x.data for x in inputs]
        y = self.forward(*xs)
        out = Tensor(y)
        if _mode.enabled:
            needs = tuple(x.requires_grad for x in inputs)
            if True in needs:
                out.requires_grad = True
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


def _accumulate_leaf(x: Tensor, g: np.ndarray) -> None:
    # A fresh array per leaf: an op may hand the same gradient array to two inputs.
    if g.dtype != x.data.dtype or g.shape != x.data.shape:
        g = np.broadcast_to(g, x.data.shape).astype(x.data.dtype)
    if x.grad is None:
        x.grad = g.copy()
    else:
        x.grad = x.grad + g


# ---- the engine -------------------------------------------------------------------------
def run_backward(root: Tensor, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from `root`, accumulating into the .grad of leaves that require grad."""
    if not root.requires_grad:
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
        gy = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.data.dtype)
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
    pending: dict[Function, int] = {}
    stack = [root.creator]
    seen = {root.creator}
    while stack:
        f = stack.pop()
        for x in f.inputs:
            g = x.creator
            if g is not None:
                pending[g] = pending.get(g, 0) + 1
                if g not in seen:
                    if g._freed:
                        raise RuntimeError(_FREED_MSG)
                    seen.add(g)
                    stack.append(g)

    grads: dict[Function, np.ndarray] = {root.creator: gy}
    ready = [root.creator]
    while ready:
        f = ready.pop()
        gy = grads.pop(f)
        gxs = f.backward(gy)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        for x, need, gx in zip(f.inputs, f.needs_grad, gxs):
            if not need:
                continue
            if gx.shape != x.data.shape:
                gx = sum_to(gx, x.data.shape)
            g = x.creator
            if g is None:
                _accumulate_leaf(x, gx)
                continue
            prev = grads.get(g)
            grads[g] = gx if prev is None else prev + gx
            pending[g] -= 1
            if pending[g] == 0:
                if x._retains_grad:
                    _accumulate_leaf(x, grads[g])
                ready.append(g)
        if not retain_graph:
            f.release()
    if root._retains_grad:
        _accumulate_leaf(root, np.ones_like(root.data) if grad is None else np.asarray(grad))


_FREED_MSG = (
    "Trying to backward through the graph a second time: its saved values were freed by the "
    "first backward(). Pass retain_graph=True to the first backward() if you need to call it again."
)
