"""The perceptron: y = step(w . x + b), the logic gates it computes, and its learning rule.

AND, NAND and OR are single perceptrons with hand-set weights (the book's values); XOR is not
linearly separable, so it needs two layers: XOR(x) = AND(NAND(x), OR(x)).
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..nn import Linear, Module
from ..ops import stack
from ..tensor import Tensor, as_tensor, to_numpy

# (w1, w2, b) of the gates, as in "Deep Learning from Scratch" chapter 2
GATE_WEIGHTS = {
    "AND": ((0.5, 0.5), -0.7),
    "NAND": ((-0.5, -0.5), 0.7),
    "OR": ((0.5, 0.5), -0.2),
}


class Perceptron(Module):
    """A single unit with the Heaviside step activation; outputs 0/1 of shape (m,)."""

    def __init__(self, n_inputs: int = 2, W=None, b: float = 0.0):
        super().__init__()
        self.unit = Linear(n_inputs, 1, init="zeros")
        with no_grad():
            if W is not None:
                self.unit.W.data[...] = np.reshape(W, (1, n_inputs))
            self.unit.b.data[...] = b

    @classmethod
    def gate(cls, name: str) -> Perceptron:
        """The AND, NAND or OR gate as a perceptron with fixed weights."""
        key = name.upper()
        if key not in GATE_WEIGHTS:
            raise ValueError(f"Perceptron.gate: unknown gate {name!r}; single-layer gates are "
                             f"{sorted(GATE_WEIGHTS)} (XOR needs two layers: use XOR())")
        W, b = GATE_WEIGHTS[key]
        return cls(2, W, b)

    def forward(self, X) -> Tensor:
        X = as_tensor(X, like=self.unit.W)
        return F.step(self.unit(X)).reshape(-1)

    def learn(self, X, t, lr: float = 0.1, max_epochs: int = 100) -> int:
        """Rosenblatt's rule, one example at a time: w += lr (t - y) x, b += lr (t - y).

        Stops after the first epoch with no mistake and returns the number of epochs run;
        raises if the data is still misclassified after max_epochs (not linearly separable).
        """
        X = np.asarray(to_numpy(X), dtype=self.unit.W.dtype)
        t = to_numpy(t).reshape(-1)
        W, b = self.unit.W.data, self.unit.b.data
        for epoch in range(1, max_epochs + 1):
            mistakes = 0
            for x_i, t_i in zip(X, t):
                y_i = float(W[0] @ x_i + b[0] > 0)
                if y_i != t_i:
                    W[0] += lr * (t_i - y_i) * x_i
                    b[0] += lr * (t_i - y_i)
                    mistakes += 1
            if mistakes == 0:
                return epoch
        raise RuntimeError(
            f"Perceptron.learn: still {mistakes} mistake(s) after {max_epochs} epochs: "
            f"the data may not be linearly separable (XOR is not)"
        )


class XOR(Module):
    """Two layers of perceptrons: s1 = NAND(x), s2 = OR(x), y = AND(s1, s2)."""

    def __init__(self):
        super().__init__()
        self.nand = Perceptron.gate("NAND")
        self.or_ = Perceptron.gate("OR")
        self.and_ = Perceptron.gate("AND")

    def forward(self, X) -> Tensor:
        s = stack([self.nand(X), self.or_(X)], axis=1)
        return self.and_(s)
