"""Perceptron gates (the book's chapter 2): AND, NAND and OR are one perceptron each;
XOR is not linearly separable and needs two layers."""
from __future__ import annotations

import numpy as np

from ...models import XOR, Perceptron
from ..core import experiment
from ..plots import figure

TRUTH_X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)
TRUTH = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


@experiment("perceptron", "Perceptron: AND/NAND/OR gates, XOR needs two layers",
            "Deep Learning from Scratch, ch. 2",
            headline={"XOR, one perceptron": "XOR: best single perceptron accuracy",
                      "XOR, two layers": "XOR by two layers (NAND, OR -> AND)"})
def run(run):
    fig, axes = figure(4, size=(3.25, 3.2))
    table = {}
    for ax, gate in zip(axes, ["AND", "NAND", "OR"]):
        p = Perceptron.gate(gate)
        y = p(TRUTH_X).data
        table[gate] = y.astype(int).tolist()
        run.check(f"{gate} truth table accuracy", np.mean(y == TRUTH[gate]), 1.0, 0.0)
        learned = Perceptron()
        if gate != "NAND":  # the rule from zero weights, on the gate's own truth table
            epochs = learned.learn(TRUTH_X, TRUTH[gate], lr=0.1)
            run.check(f"{gate} learned by the perceptron rule", np.mean(learned(TRUTH_X).data == TRUTH[gate]), 1.0, 0.0)
            run.record(**{f"{gate.lower()}_rule_epochs": epochs})
        _plot_gate(ax, p, gate)

    # XOR: the rule never converges, and no line does better than 3 of 4 (a grid search
    # over all (w1, w2, b) in [-1, 1]^3 shows the best single perceptron)
    try:
        Perceptron().learn(TRUTH_X, TRUTH["XOR"], lr=0.1, max_epochs=50)
        converged = 1.0
    except RuntimeError:
        converged = 0.0
    run.check("XOR: perceptron rule converges", converged, 0.0, 0.0)
    grid = np.linspace(-1, 1, 41)
    w1, w2, b = np.meshgrid(grid, grid, grid, indexing="ij")
    outputs = (w1[..., None] * TRUTH_X[:, 0] + w2[..., None] * TRUTH_X[:, 1] + b[..., None]) > 0
    best = (outputs == np.array(TRUTH["XOR"], dtype=bool)).mean(axis=-1).max()
    run.check("XOR: best single perceptron accuracy", best, 0.75, 0.0)
    y = XOR()(TRUTH_X).data
    table["XOR"] = y.astype(int).tolist()
    run.check("XOR by two layers (NAND, OR -> AND)", np.mean(y == TRUTH["XOR"]), 1.0, 0.0)
    _plot_points(axes[3], "XOR: no single line separates it")
    run.record(truth_tables=table)
    run.savefig(fig, "gates")
    for gate, outputs in table.items():
        print(f"  {gate:4s} x1 x2 -> y: " + ", ".join(
            f"{int(a)}{int(b)}->{o}" for (a, b), o in zip(TRUTH_X, outputs)))


def _plot_points(ax, title):
    for (x1, x2), t in zip(TRUTH_X, TRUTH[title.split(":")[0]] if ":" in title else [0] * 4):
        ax.scatter(x1, x2, c="tab:blue" if t else "tab:red", s=80, marker="o" if t else "x")
    ax.set_xlim(-0.5, 1.5), ax.set_ylim(-0.5, 1.5), ax.set_title(title, fontsize=9)
    ax.set_xlabel("x1"), ax.set_ylabel("x2")


def _plot_gate(ax, p, gate):
    w1, w2 = p.unit.W.data[0]
    b = p.unit.b.data[0]
    xs = np.linspace(-0.5, 1.5, 10)
    ax.plot(xs, -(w1 * xs + b) / w2, "k--", lw=1)
    _plot_points(ax, f"{gate}: w=({w1:g}, {w2:g}), b={b:g}")
