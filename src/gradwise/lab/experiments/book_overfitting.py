"""Overfitting, then weight decay and dropout (the book, ch. 6.4, figures 6-20, 6-21, 6-23).

A 7-layer network (784, six hidden layers of 100, 10; ReLU, He initialization) trains on
only the first 300 MNIST training images, plain SGD lr 0.01, mini-batches of 100; after each
epoch its accuracy on those 300 and on the 10,000 test images:

- no regularization, 200 epochs: the training accuracy reaches 100% while the test accuracy
  stays far below it: the network has learned its 300 images, not digits;
- weight decay, lambda 0.1 (the book's: 0.5 lambda sum ||W||^2 added to the loss, lambda W
  to each dW, weights only): the gap narrows, the training accuracy stays below 100%;
- dropout, p 0.2 after every hidden layer, 300 epochs (the book's overfit_dropout.py): the
  gap narrows too, and the training accuracy no longer reaches 100%.

The dropout is the book's (BookDropout: no scaling in training, times 1 - p at test time).
gradwise's nn.Dropout is inverted, as PyTorch's, and with it the same network behaves
differently: its training signal is not shrunk by 0.8 per layer, so at lr 0.01 it learns
about three times faster, fits its 300 images within 300 epochs and opens a gap as wide as
the unregularized one. The full run trains that network too and plots it beside the book's;
the book's narrower gap comes with slower learning, which a learner should know.

Reference: the figures' curves and the text around them (the book prints no numbers): the
unregularized training accuracy reaches 1.0 (checked within 0.01) with a test accuracy
"much lower" (a gap of at least 0.15; the figure shows about 0.25); each remedy narrows the
final gap and keeps the training accuracy below 1.0.
"""
from __future__ import annotations

import numpy as np

from ... import manual_seed, optim
from ..book import MNIST_FILES, SOURCE, decay_weights_only, mnist, multi_layer_net, train_epochs
from ..core import experiment
from ..plots import figure

# name -> (multi_layer_net options, weight decay lambda, epochs)
RUNS = {
    "no regularization": ({}, 0.0, 201),
    "weight decay 0.1": ({}, 0.1, 201),
    "dropout 0.2 (the book's)": ({"dropout": 0.2, "dropout_form": "book"}, 0.0, 301),
    "dropout 0.2 (inverted, nn.Dropout)": ({"dropout": 0.2, "dropout_form": "inverted"}, 0.0, 301),
}


def train_one(run, options: dict, lambd: float, epochs: int, train, test, desc: str) -> dict:
    manual_seed(0)            # the same initial draws and batches for every variant
    model = multi_layer_net([100] * 6, **options)
    opt = optim.SGD(decay_weights_only(model, lambd), lr=0.01)
    return train_epochs({desc: (model, opt)}, *train, epochs, 100, {"train": train, "test": test},
                        run.progress, desc=desc)[desc]


@experiment("overfitting", "Overfitting 300 MNIST images; weight decay and dropout narrow the gap",
            f"{SOURCE}, ch. 6.4 (overfit_weight_decay.py, overfit_dropout.py, figures 6-20, 6-21, 6-23)",
            quick_note="150 epochs each, 2,000 test images, the book's dropout only",
            needs=MNIST_FILES,
            headline={"train - test gap": "no regularization: train - test accuracy gap",
                      "weight decay: change of the gap": "weight decay 0.1: gap minus the unregularized gap",
                      "dropout: change of the gap": "dropout 0.2 (the book's): gap minus the unregularized gap"})
def run(run):
    train, test = mnist(n_train=300, n_test=2000 if run.quick else None)
    names = list(RUNS)[:3] if run.quick else list(RUNS)
    curves = {}
    for name in names:
        options, lambd, epochs = RUNS[name]
        if run.quick:
            epochs = 150
        curves[name] = train_one(run, options, lambd, epochs, train, test, name)
        c = curves[name]
        run.log(f"  {name}: after {epochs} epochs train {c['train'][-1]:.3f}, test {c['test'][-1]:.3f}, "
                f"gap {c['train'][-1] - c['test'][-1]:.3f}")

    gap = {k: c["train"][-1] - c["test"][-1] for k, c in curves.items()}
    plain = curves["no regularization"]
    run.check("no regularization: final training accuracy", plain["train"][-1], 1.0, 0.01)
    run.check_bound("no regularization: train - test accuracy gap", gap["no regularization"], low=0.15)
    for name in ("weight decay 0.1", "dropout 0.2 (the book's)"):
        run.check_bound(f"{name}: gap minus the unregularized gap", gap[name] - gap["no regularization"],
                        high=-0.03)
        run.check_bound(f"{name}: final training accuracy", curves[name]["train"][-1], high=0.99)

    fig, axes = figure(len(curves), size=(3.6, 3.2))
    for ax, (name, c) in zip(axes, curves.items()):
        epochs = np.arange(1, len(c["train"]) + 1)
        ax.plot(epochs, c["train"], "o-", ms=2.5, markevery=10, label="train (300 images)")
        ax.plot(epochs, c["test"], "s-", ms=2.5, markevery=10, label="test")
        ax.set_ylim(0, 1.0)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{name}: gap {gap[name]:.2f}", fontsize=8)
        ax.legend(loc="lower right", fontsize=7)
    run.savefig(fig, "accuracy")
    run.record(accuracy=curves, final_gap=gap)
