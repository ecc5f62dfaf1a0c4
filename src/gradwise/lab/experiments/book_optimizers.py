"""SGD, Momentum, AdaGrad and Adam on MNIST (the book, ch. 6.1.8, figure 6-9).

Four copies of a 5-layer network (784-100-100-100-100-10, ReLU, He initialization), each
with its update rule at the book's defaults, train on the same mini-batches of 128 for
2,000 iterations:

    SGD       W -= 0.01 dW
    Momentum  v = 0.9 v - 0.01 dW; W += v      (the book's form = SGD(lr=0.01, momentum=0.9):
                                                 PyTorch's v = 0.9 v + dW; W -= 0.01 v)
    AdaGrad   h += dW^2; W -= 0.01 dW / (sqrt(h) + 1e-7)
    Adam      lr 0.001, beta1 0.9, beta2 0.999  (the book folds the bias corrections into
                                                 the step, with eps 1e-7 outside them;
                                                 gradwise's is PyTorch's, eps 1e-8)

Reference: figure 6-9 and its text: SGD learns slowest; the other three learn faster, with
AdaGrad (and Adam) a little ahead. The checks read "learns faster" two ways: the mean loss
over the run (the area under the curve) and the loss at the end (the mean of the last 100
iterations): SGD is the highest by both, and the lowest of all is AdaGrad or Adam.
"""
from __future__ import annotations

import numpy as np

from ... import manual_seed, optim
from ..book import MNIST_FILES, SOURCE, mnist, multi_layer_net, train_side_by_side
from ..core import experiment
from ..plots import figure, loss_curves

OPTIMIZERS = {
    "SGD": lambda params: optim.SGD(params, lr=0.01),
    "Momentum": lambda params: optim.SGD(params, lr=0.01, momentum=0.9),
    "AdaGrad": lambda params: optim.Adagrad(params, lr=0.01, eps=1e-7),
    "Adam": lambda params: optim.Adam(params, lr=0.001),
}


def ranks(values: dict) -> dict:
    """{name: 1 for the lowest value, 2 for the next, ...}."""
    return {name: i for i, name in enumerate(sorted(values, key=values.get), start=1)}


@experiment("optimizer_comparison", "Optimizers on MNIST: SGD vs Momentum vs AdaGrad vs Adam",
            f"{SOURCE}, ch. 6.1.8 (optimizer_compare_mnist.py, figure 6-9)",
            quick_note="400 iterations instead of 2,000", needs=MNIST_FILES,
            headline={"SGD's rank (4 = slowest)":
                      "SGD is the slowest: rank of its final loss (last 100 iterations) (1 = lowest)",
                      "best of AdaGrad/Adam minus best of SGD/Momentum (final loss)":
                      "lowest final loss is AdaGrad's or Adam's: min(AdaGrad, Adam) - min(SGD, Momentum)"})
def run(run):
    (X, y), _ = mnist()
    iterations = 400 if run.quick else 2000
    manual_seed(0)
    nets = {}
    for name, make in OPTIMIZERS.items():
        model = multi_layer_net([100] * 4, weight_init_std="relu")
        nets[name] = (model, make(model.parameters()))
    losses = train_side_by_side(nets, X, y, 128, iterations, run.progress)

    mean_loss = {k: float(np.mean(v)) for k, v in losses.items()}
    final_loss = {k: float(np.mean(v[-100:])) for k, v in losses.items()}
    for what, values in (("mean loss over the run", mean_loss), ("final loss (last 100 iterations)", final_loss)):
        r = ranks(values)
        run.check(f"SGD is the slowest: rank of its {what} (1 = lowest)", r["SGD"], 4, 0)
        run.log(f"  {what}: " + ", ".join(f"{k} {v:.4f}" for k, v in values.items()))
    adaptive = min(final_loss["AdaGrad"], final_loss["Adam"])
    run.check_bound("lowest final loss is AdaGrad's or Adam's: min(AdaGrad, Adam) - min(SGD, Momentum)",
                    adaptive - min(final_loss["SGD"], final_loss["Momentum"]), high=0.0)

    fig, (ax,) = figure(1, size=(5.6, 4.0))
    loss_curves(ax, losses, f"5-layer ReLU net on MNIST, batch 128, {iterations} iterations", ylim=(0, 1))
    run.savefig(fig, "loss")
    run.record(mean_loss=mean_loss, final_loss=final_loss,
               loss_every_10={k: v[::10] for k, v in losses.items()})
