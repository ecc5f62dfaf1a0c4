"""`gradwise demo`: a small end-to-end run of the library, no files needed.

A 2-64-64-3 ReLU MLP learns three interleaved spirals (CS231n's toy data) with plain
gradient descent on the full batch; the loss curve is printed as a sparkline.
"""
from __future__ import annotations

import time

import numpy as np

from .. import __version__, manual_seed, nn, optim
from .. import functional as F
from ..autograd import no_grad
from ..datasets import make_spirals
from ..tensor import Tensor

BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values, width: int = 60) -> str:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.linspace(0, len(v) - 1, min(width, len(v))).astype(int)]
    lo, hi = v.min(), v.max()
    return "".join(BARS[int((x - lo) / (hi - lo + 1e-12) * (len(BARS) - 1))] for x in v)


def run(iterations: int = 2000, lr: float = 0.5, seed: int = 0, echo=print) -> float:
    """Train and report; returns the final training accuracy."""
    if iterations < 1:
        raise ValueError(f"demo: iterations must be >= 1, got {iterations}")
    manual_seed(seed)
    X_np, y = make_spirals(100, 3, seed=seed)
    X = Tensor(X_np.astype(np.float32))
    model = nn.Sequential(nn.Linear(2, 64, init="he_normal"), nn.ReLU(),
                          nn.Linear(64, 64, init="he_normal"), nn.ReLU(),
                          nn.Linear(64, 3, init="he_normal"))
    opt = optim.SGD(model.parameters(), lr=lr)
    echo(f"gradwise {__version__}: 2-64-64-3 ReLU MLP on {len(y)} spiral points, full-batch "
         f"gradient descent, lr {lr}")
    losses, start = [], time.perf_counter()
    for it in range(1, iterations + 1):
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if it == 1 or it % max(1, iterations // 10) == 0:
            echo(f"  iteration {it:5d}  loss {losses[-1]:.4f}")
    with no_grad():
        accuracy = float((model(X).data.argmax(axis=1) == y).mean())
    echo(f"loss curve  {losses[0]:.3f} {sparkline(losses)} {losses[-1]:.3f}")
    echo(f"train accuracy {accuracy:.1%} in {time.perf_counter() - start:.1f} s")
    return accuracy
