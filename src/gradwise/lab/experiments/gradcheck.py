"""Gradient checking (the course, Improving Deep Neural Networks, week 1).

1-D: J(theta) = theta x, whose derivative is x.  N-D: the assignment's 3-layer network
(LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID) on its seeded test case, checked
with epsilon = 1e-7 as there. The assignment's deliberately broken backward (dW2 doubled,
db1 times 4) must be detected.

Reference: "Gradient Checking v1" printed outputs: 1-D difference 2.919335883291695e-10;
N-D 1.1890913024229996e-07 with the correct backward (the notebook's threshold for "correct"
is 2e-7), 0.2850931567761623 with the broken one. The N-D difference is the rounding noise
of the central differences, so it depends on how the cost is summed: ours (the same network
on gradwise ops) gives 1.191e-07, compared within 5e-8.
"""
from __future__ import annotations

import numpy as np

from ... import functional as F
from ...autograd import Function
from ...check import gradcheck as gw_gradcheck
from ...check import numerical_grad, relative_difference
from ...tensor import Tensor
from ..core import experiment
from ..plots import figure

EPSILON = 1e-7


def _course_case():
    """gradient_check_n_test_case: the draws of np.random.seed(1), in the same order."""
    rs = np.random.RandomState(1)
    x = rs.randn(4, 3)
    y = np.array([1, 1, 0])
    params = {}
    for name, shape in [("W1", (5, 4)), ("b1", (5, 1)), ("W2", (3, 5)), ("b2", (3, 1)),
                        ("W3", (1, 3)), ("b3", (1, 1))]:
        params[name] = rs.randn(*shape)
    return x, y, params


def _cost(X, Y, W1, b1, W2, b2, W3, b3):
    """The assignment's forward pass, batch first: X is (m, n_x) = x^T; W keeps (n, n_prev)."""
    A1 = F.relu(F.linear(X, W1, b1))
    A2 = F.relu(F.linear(A1, W2, b2))
    A3 = F.sigmoid(F.linear(A2, W3, b3))
    return F.binary_cross_entropy(A3, Y, eps=0.0)


class _BrokenSigmoid(Function, register=False):
    """sigmoid with a wrong derivative (A instead of A (1 - A)): gradcheck must object."""

    def forward(self, z):
        self.A = 1 / (1 + np.exp(-z))
        return self.A

    def backward(self, dA):
        return dA * self.A


@experiment("gradient_checking", "Gradient checking: 1-D, N-D, and a broken backward caught",
            "Improving Deep Neural Networks, week 1 (Gradient Checking)",
            headline={"N-D difference": "N-D difference, backprop by autograd",
                      "broken backward": "N-D difference with the broken backward"})
def run(run):
    # 1-D: J = theta x at theta = 4, x = 2
    theta = Tensor(np.array(4.0), requires_grad=True)
    J = lambda t: t * 2.0  # noqa: E731
    J(theta).backward()
    approx = numerical_grad(J, [theta.detach()], EPSILON)[0]
    d1 = relative_difference(np.atleast_1d(approx), np.atleast_1d(theta.grad))
    run.check("1-D difference (J = theta x)", d1, 2.919335883291695e-10, 1e-15)

    # N-D: the 3-layer network of the assignment, its parameters as one vector
    x, y, p = _course_case()
    X, Y = Tensor(x.T.copy()), y.reshape(-1, 1).astype(np.float64)
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    params = [Tensor(p[n].reshape(-1) if n.startswith("b") else p[n], requires_grad=True) for n in names]
    cost = lambda *ps: _cost(X, Y, *ps)  # noqa: E731
    cost(*params).backward()
    grad = np.concatenate([q.grad.reshape(-1) for q in params])
    approx = np.concatenate([g.reshape(-1) for g in numerical_grad(cost, [q.detach() for q in params], EPSILON)])
    d_n = relative_difference(approx, grad)
    run.check("N-D difference, backprop by autograd", d_n, 1.1890913024229996e-07, 5e-8)

    # the assignment's bugs: dW2 doubled, db1 multiplied by 4
    broken = [q.grad.copy() for q in params]
    broken[2] = broken[2] * 2
    broken[1] = broken[1] * 4
    d_bug = relative_difference(approx, np.concatenate([g.reshape(-1) for g in broken]))
    run.check("N-D difference with the broken backward", d_bug, 0.2850931567761623, 1e-6)

    # gradwise.check.gradcheck flags an op whose backward is wrong
    z = np.random.default_rng(0).normal(size=(3, 4))
    good = gw_gradcheck(F.sigmoid, [z])
    bad = gw_gradcheck(lambda t: _BrokenSigmoid()(t), [z], raise_exception=False)
    run.check("gradcheck: correct sigmoid passes (difference < 1e-7)", float(good.difference < 1e-7), 1.0, 0.0)
    caught = bad.difference > 1e-3 and not bad.ok
    run.check("gradcheck: broken sigmoid caught (difference > 1e-3)", float(caught), 1.0, 0.0)

    # the difference against epsilon: truncation error (~eps^2) on the right, rounding error
    # (~1e-16 / eps) on the left; the notebook's 1e-7 sits on the rounding side, and the
    # bug stays far above both
    epsilons = np.logspace(-12, -1, 23)
    sweep = [relative_difference(np.concatenate([g.reshape(-1) for g in numerical_grad(
        cost, [q.detach() for q in params], eps)]), grad) for eps in epsilons]
    best = float(epsilons[int(np.argmin(sweep))])
    # theory for central differences: best near the cube root of machine epsilon, ~6e-6
    run.check("the best epsilon lies within 1e-6..1e-3 (theory: ~6e-6)", float(1e-6 <= best <= 1e-3), 1.0, 0.0)
    # where the broken backward is wrong: the per-parameter differences point at W2 and b1
    per_param = {n: relative_difference(a.reshape(-1), b.reshape(-1)) for n, a, b in zip(
        names, numerical_grad(cost, [q.detach() for q in params], EPSILON), broken)}
    run.check("the broken parameters stand out (W2 and b1 > 1e-3, the rest < 1e-6)",
              float(min(per_param["W2"], per_param["b1"]) > 1e-3 and
                    max(v for k, v in per_param.items() if k not in ("W2", "b1")) < 1e-6), 1.0, 0.0)

    fig, (ax, ax_bar) = figure(2, size=(4.6, 3.4))
    ax.loglog(epsilons, sweep, "o-", ms=3, label="backprop by autograd")
    ax.axhline(d_bug, color="tab:red", ls="--", label="the notebook's broken backward")
    ax.axhline(2e-7, color="gray", ls=":", label="the notebook's threshold 2e-7")
    ax.axvline(EPSILON, color="k", lw=0.8)
    ax.set_xlabel("epsilon")
    ax.set_ylabel("relative difference")
    ax.set_title("N-D gradient check against epsilon", fontsize=9)
    ax.legend(fontsize=7)
    ax_bar.bar(names, [max(per_param[n], 1e-17) for n in names], color=[
        "tab:red" if per_param[n] > 1e-3 else "tab:green" for n in names])
    ax_bar.set_yscale("log")
    ax_bar.set_ylabel("relative difference")
    ax_bar.set_title("broken backward: the difference per parameter", fontsize=9)
    run.savefig(fig, "epsilon")
    run.record(sigmoid_difference=good.difference, broken_sigmoid_difference=bad.difference,
               epsilon_sweep=dict(zip(epsilons.tolist(), sweep)), broken_per_parameter=per_param)
    run.log(f"  1-D difference {d1:.3e}; N-D {d_n:.3e}; broken backward {d_bug:.6f}; "
            f"broken sigmoid {bad.difference:.3e}; best epsilon {best:.0e}")
