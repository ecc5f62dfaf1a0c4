"""Planar data classification with one hidden layer (the course, Neural Networks and Deep
Learning, week 3).

The "flower": 400 points in two classes that no line separates. Logistic regression gets
about 47%; one hidden layer of 4 tanh units, sigmoid output, trained by full-batch gradient
descent (lr 1.2, 10,000 iterations) gets 90% and draws the petals. The notebook seeds its
weights with np.random.seed(2) and W = randn * 0.01, so its printed cost curve is
reproduced number for number.

Reference: Planar_data_classification_with_onehidden_layer_v6c.ipynb (printed outputs).
Its costs from iteration 8000 on differ between published runs of the same notebook
(0.219454 to 0.219506 at 8000; 0.218558 to 0.218612 at 9000): the loss oscillates there and
rounding decides the last digits, so those two points are compared to 1e-4, the others to
1e-6 (the notebook prints six decimals).
"""
from __future__ import annotations

import numpy as np

from ... import nn, optim
from ...datasets import load_planar_dataset
from ...train.metrics import accuracy
from ..core import experiment
from ..course import as_inputs, as_targets, course_mlp, predict, train_full_batch
from ..plots import cost_curve, decision_boundary, figure

PRINTED_COSTS = {0: 0.693048, 1000: 0.288083, 2000: 0.254385, 3000: 0.233864, 4000: 0.226792,
                 5000: 0.222644, 6000: 0.219731, 7000: 0.217504}
LATE_COSTS = {8000: 0.219471, 9000: 0.218612}       # run-to-run spread ~5e-5 (see above)
HIDDEN_SWEEP = {1: 67.5, 2: 67.25, 3: 90.75, 4: 90.5, 5: 91.25, 20: 90.0, 50: 90.25}
LOGISTIC_ACCURACY = 47.0    # sklearn's LogisticRegressionCV in the notebook, printed "47 %"


def flower_net(n_h: int):
    """2 -> n_h tanh -> 1 (sigmoid in the loss), seeded as the notebook's initialize_parameters."""
    return course_mlp([2, n_h, 1], hidden="tanh", init="small", seed=2)


def train(model, X, Y, iterations, run, desc):
    opt = optim.SGD(model.parameters(), lr=1.2)
    return train_full_batch(model, X, Y, opt, iterations, every=100, progress=run.progress, desc=desc)


@experiment("planar", "Planar flower: logistic regression vs one hidden layer of tanh units",
            "Neural Networks and Deep Learning, week 3 (Planar data classification)",
            quick_note="the hidden-size sweep covers n_h = 1 and 3 only",
            headline={"logistic regression %": "logistic regression accuracy (%)",
                      "4 tanh units %": "n_h = 4 accuracy (%; printed as the integer 90)",
                      "cost curve": "cost, iterations 0-7000 (printed to 6 decimals)"})
def run(run):
    X_np, y = load_planar_dataset(seed=1)          # exactly the notebook's data, batch first
    X, Y = as_inputs(X_np), as_targets(y)

    # logistic regression: a single sigmoid unit, the linear baseline
    logistic = nn.Linear(2, 1, init="zeros", dtype=np.float64)
    lr_costs = train(logistic, X, Y, 2000, run, "logistic regression")
    lr_acc = 100 * accuracy(y, predict(logistic, X))
    run.check("logistic regression accuracy (%)", lr_acc, LOGISTIC_ACCURACY, 2.0)

    # one hidden layer, 4 tanh units, 10,000 iterations
    model = flower_net(4)
    costs = train(model, X, Y, 10_000, run, "n_h = 4")
    run.check_series("cost, iterations 0-7000 (printed to 6 decimals)", costs, PRINTED_COSTS, 1e-6)
    run.check_series("cost, iterations 8000-9000 (spread between published runs)", costs,
                     LATE_COSTS, 1e-4)
    acc = 100 * accuracy(y, predict(model, X))
    run.check("n_h = 4 accuracy (%; printed as the integer 90)", acc, 90.0, 1.0)
    run.log(f"  logistic regression {lr_acc:.2f}%, one hidden layer of 4 tanh units {acc:.2f}%")

    # the hidden-layer size, 5,000 iterations each
    sizes = [1, 3] if run.quick else list(HIDDEN_SWEEP)
    sweep = {}
    fig_sweep, axes = figure(4, 2, size=(3.4, 3.0))
    for ax, n_h in zip(axes, sizes):
        net = flower_net(n_h)
        train(net, X, Y, 5_000, run, f"n_h = {n_h}")
        sweep[n_h] = 100 * accuracy(y, predict(net, X))
        # the notebooks' own runs disagree at n_h = 20, 50 (90.0 / 90.25, 90.25 / 91.0)
        tol = 0.0 if n_h <= 5 else 0.75
        run.check(f"hidden-size sweep: n_h = {n_h} accuracy (%)", sweep[n_h], HIDDEN_SWEEP[n_h], tol)
        decision_boundary(ax, lambda P, net=net: predict(net, as_inputs(P)), X_np, y,
                          f"{n_h} hidden unit{'s' * (n_h > 1)}: {sweep[n_h]:.2f}%")
    for ax in axes[len(sizes):]:
        ax.set_visible(False)
    run.log("  accuracy by hidden size: " + ", ".join(f"{n}: {a:.2f}%" for n, a in sweep.items()))

    fig, (ax_lr, ax_nn, ax_cost) = figure(3)
    decision_boundary(ax_lr, lambda P: predict(logistic, as_inputs(P)), X_np, y,
                      f"logistic regression: {lr_acc:.2f}%")
    decision_boundary(ax_nn, lambda P: predict(model, as_inputs(P)), X_np, y,
                      f"4 tanh hidden units: {acc:.2f}%")
    cost_curve(ax_cost, costs, "gradwise")
    ax_cost.plot(list(PRINTED_COSTS) + list(LATE_COSTS),
                 list(PRINTED_COSTS.values()) + list(LATE_COSTS.values()), "k+", ms=9,
                 label="notebook (printed)")
    ax_cost.legend(fontsize=8)
    ax_cost.set_title("cost, n_h = 4, lr 1.2", fontsize=9)
    run.savefig(fig, "boundaries")
    run.savefig(fig_sweep, "hidden-sizes")
    run.record(costs=costs, logistic_costs=lr_costs, logistic_accuracy=lr_acc, accuracy=acc,
               hidden_sweep=sweep)
