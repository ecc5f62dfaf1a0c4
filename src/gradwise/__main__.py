"""`python -m gradwise`: a small end-to-end demo of the autograd core.

Trains a 2-64-64-3 ReLU MLP with plain gradient descent on three generated spirals and
prints the loss curve and the final accuracy. Only the public API is used.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import gradwise as gw
import gradwise.functional as F


def spirals(n_per_class: int = 100, classes: int = 3, seed: int = 0):
    """The classic 2-D spiral toy data (CS231n style): X (m, 2) float32, y (m,) int64."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(0, 0.2, n_per_class)
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(n_per_class, c))
    return np.concatenate(X).astype(np.float32), np.concatenate(y)


def he(n_out: int, n_in: int) -> gw.Tensor:
    """He initialization: W ~ N(0, 2 / n_prev), the right scale for ReLU layers."""
    return (gw.randn(n_out, n_in) * np.sqrt(2.0 / n_in)).requires_grad_()


def sparkline(values, width: int = 60) -> str:
    bars = " ▁▂▃▄▅▆▇█"
    v = np.asarray(values)[np.linspace(0, len(values) - 1, width).astype(int)]
    lo, hi = v.min(), v.max()
    return "".join(bars[int((x - lo) / (hi - lo + 1e-12) * (len(bars) - 1))] for x in v)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradwise", description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    gw.manual_seed(args.seed)
    X_np, y_np = spirals(seed=args.seed)
    X, y = gw.tensor(X_np), gw.tensor(y_np)
    params = [he(64, 2), gw.zeros(64, requires_grad=True),
              he(64, 64), gw.zeros(64, requires_grad=True),
              he(3, 64), gw.zeros(3, requires_grad=True)]
    W1, b1, W2, b2, W3, b3 = params

    def forward(X):
        A1 = F.relu(F.linear(X, W1, b1))
        A2 = F.relu(F.linear(A1, W2, b2))
        return F.linear(A2, W3, b3)

    print(f"gradwise {gw.__version__}: 2-64-64-3 ReLU MLP on {len(X_np)} spiral points, "
          f"full-batch gradient descent, lr {args.lr}")
    losses, start = [], time.perf_counter()
    for it in range(1, args.iterations + 1):
        loss = F.cross_entropy(forward(X), y)
        for p in params:
            p.grad = None
        loss.backward()
        with gw.no_grad():
            for p in params:
                p.data -= args.lr * p.grad
        losses.append(loss.item())
        if it == 1 or it % max(1, args.iterations // 10) == 0:
            print(f"  iteration {it:5d}  loss {losses[-1]:.4f}")
    with gw.no_grad():
        accuracy = (forward(X).argmax(axis=1) == y).numpy().mean()
    print(f"loss curve  {losses[0]:.3f} {sparkline(losses)} {losses[-1]:.3f}")
    print(f"train accuracy {accuracy:.1%} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
