"""Gradient checking: compare backprop with central differences, in float64.

    dtheta_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
    difference = ||dtheta_approx - dtheta|| / (||dtheta_approx|| + ||dtheta||)

The course reads the difference as: ~1e-7 great, ~1e-5 look closer, >= 1e-3 a bug.
A non-scalar output y is checked through J = sum(y * R) with a fixed random R, which tests
every column of the Jacobian at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, to_numpy


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient disagrees with the numerical one."""


def _as_inputs(inputs) -> list[Tensor]:
    """Float64 leaf copies of the inputs; arrays and floating tensors require grad unless a
    tensor says otherwise (integer data stays constant)."""
    out = []
    for x in inputs:
        data = to_numpy(x)
        wants = x.requires_grad if isinstance(x, Tensor) else data.dtype.kind == "f"
        if data.dtype.kind == "f":
            data = data.astype(np.float64)
        out.append(Tensor(np.array(data), requires_grad=wants))
    return out


def _objective(f, xs, R):
    y = f(*xs)
    if not isinstance(y, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(y).__name__}")
    return y, float(np.sum(y.data * R))


def numerical_grad(f, inputs, eps: float = 1e-6, grad_output=None) -> list:
    """Central-difference gradient of sum(f(*inputs) * grad_output) w.r.t. each input.

    grad_output defaults to 1 (f must then return a scalar or it is summed). Returns one
    array per input (None for inputs that do not require grad). Inputs are used as given:
    pass float64 data for meaningful results. Each element is perturbed in place, through
    its own index, so inputs of any layout (transposed, Fortran-order, negative or step
    strides, 0-d) are perturbed where f reads them; a read-only input (a broadcast view) is
    replaced by a copy of its own.
    """
    xs = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    xs = [x if x.data.flags.writeable else Tensor(x.data.copy()) for x in xs]
    R = 1.0 if grad_output is None else np.asarray(grad_output)
    grads = []
    with no_grad():
        for x in xs:
            a = x.data
            if a.dtype.kind != "f":
                grads.append(None)
                continue
            g = np.zeros(a.shape, dtype=a.dtype)
            for i in np.ndindex(a.shape):
                orig = a[i]
                a[i] = orig + eps
                plus = _objective(f, xs, R)[1]
                a[i] = orig - eps
                minus = _objective(f, xs, R)[1]
                a[i] = orig
                g[i] = (plus - minus) / (2 * eps)
            grads.append(g)
    return grads


@dataclass
class InputReport:
    index: int
    difference: float          # the course's relative difference
    worst_element: tuple       # where |analytic - numerical| is largest
    analytic: float
    numerical: float
    ok: bool


@dataclass
class GradcheckResult:
    ok: bool
    difference: float          # the largest relative difference over the inputs
    inputs: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"gradcheck {'passed' if self.ok else 'FAILED'}: difference {self.difference:.3e}"]
        for r in self.inputs:
            lines.append(
                f"  input {r.index}: difference {r.difference:.3e}, worst element "
                f"{r.worst_element}: analytic {r.analytic:.8g} vs numerical {r.numerical:.8g}"
                + ("" if r.ok else "  <-- mismatch")
            )
        return "\n".join(lines)


def relative_difference(g_num: np.ndarray, g: np.ndarray) -> float:
    """||g_num - g|| / (||g_num|| + ||g||), 0 when both are zero."""
    denom = np.linalg.norm(g_num) + np.linalg.norm(g)
    return 0.0 if denom == 0 else float(np.linalg.norm(g_num - g) / denom)


def gradcheck(f, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> GradcheckResult:
    """Check f's backward against central differences, in float64.

    Passes when every element satisfies |analytic - numerical| <= atol + rtol |numerical|
    (as torch.autograd.gradcheck). Returns a GradcheckResult with the course's relative
    difference per input; raises GradcheckError on a mismatch unless raise_exception=False.
    """
    xs = _as_inputs(inputs)
    if not any(x.requires_grad for x in xs):
        raise ValueError("gradcheck: no input requires grad: there is nothing to check")
    y = f(*xs)
    R = np.random.default_rng(seed).standard_normal(y.shape) if y.ndim else np.float64(1.0)
    if not y.requires_grad:
        raise GradcheckError("gradcheck: the output does not depend on any input that requires grad")
    y.backward(np.asarray(R, dtype=y.dtype))
    numeric = numerical_grad(f, xs, eps, R)

    reports = []
    for i, (x, g_num) in enumerate(zip(xs, numeric)):
        if not x.requires_grad:
            continue
        g = x.grad if x.grad is not None else np.zeros_like(x.data)
        err = np.abs(g - g_num)
        worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
        ok = bool(np.all(err <= atol + rtol * np.abs(g_num)))
        reports.append(InputReport(
            i, relative_difference(g_num, g), tuple(int(w) for w in worst),
            float(g[worst]) if err.size else 0.0, float(g_num[worst]) if err.size else 0.0, ok,
        ))
    result = GradcheckResult(all(r.ok for r in reports), max(r.difference for r in reports), reports)
    if not result.ok and raise_exception:
        raise GradcheckError(str(result))
    return result
