"""Batch normalization: with and without, over 16 initial weight scales (the book, ch. 6.3.2,
figure 6-19).

Two 6-layer networks (784-100-100-100-100-100-10, ReLU), one with the book's batch norm
after each hidden Linear (before its ReLU), both with W = std * randn for std in
logspace(0, -4, 16) (1 down to 0.0001), train side by side on the same mini-batches of 100
of the first 1,000 MNIST training images, plain SGD lr 0.01, 20 epochs; the training
accuracy (eval mode: batch norm with its running averages) after each epoch. The batch norm
is the book's BatchNormalization (lab.book.BookBatchNorm1d): its running mean and variance
start at 0, so at small weight scales the eval-mode accuracy leaves chance in the first
epoch (0.52 at std 0.0022), where running statistics that start at PyTorch's variance 1
keep it near 0.1 for the first epochs.

Reference: the book's text on figure 6-19: batch norm makes learning faster in almost all
cases, and without it some weight scales do not learn at all. Read as checks: batch norm is
ahead (its mean accuracy over the 20 epochs, the area under its curve, is higher) at 3 of 4
scales or more; at least half the scales leave the plain network stuck (final training
accuracy below 0.2, the 10-class guess being 0.1), and with batch norm at most 2 of the 16.

Why the plain network gets stuck: below He's scale (sqrt(2 / 100) = 0.14) the activations
shrink layer by layer (see weight_init), above it they grow until the softmax saturates;
batch norm rescales each layer's outputs to unit variance whatever W's scale. What it cannot
rescale is the last Linear (no batch norm after it): at std 1 its scores are ~7 standard
deviations wide and at 1e-4 the backward signal to the hidden layers is 1e-4 small, which is
why the two ends of the range learn slowest with batch norm too.
"""
from __future__ import annotations

import numpy as np

from ... import manual_seed, optim
from ..book import MNIST_FILES, SOURCE, mnist, multi_layer_net, train_epochs
from ..core import experiment
from ..plots import figure

SCALES = np.logspace(0, -4, num=16)
STUCK = 0.2


@experiment("batch_norm", "Batch norm vs none over 16 weight scales (MNIST, 1,000 images)",
            f"{SOURCE}, ch. 6.3.2 (batch_norm_test.py, figure 6-19)",
            quick_note="4 of the 16 scales (1, 0.046, 0.0022, 0.0001)", needs=MNIST_FILES,
            headline={"share of scales where BN is ahead":
                      "share of the 16 scales where batch norm is ahead (mean accuracy over 20 epochs)"})
def run(run):
    (X, y), _ = mnist(n_train=1000)
    scales = SCALES[::5] if run.quick else SCALES
    manual_seed(0)
    curves = {}
    for std in run.progress(scales, desc="weight scales"):
        bn = multi_layer_net([100] * 5, weight_init_std=float(std), batch_norm=True)
        plain = multi_layer_net([100] * 5, weight_init_std=float(std))
        nets = {"batch norm": (bn, optim.SGD(bn.parameters(), lr=0.01)),
                "plain": (plain, optim.SGD(plain.parameters(), lr=0.01))}
        # at the largest scales the plain network's activations overflow float32 (inf, then
        # NaN: it never learns, as in the book's figure); that is the result, not a warning
        with np.errstate(over="ignore", invalid="ignore"):
            result = train_epochs(nets, X, y, 20, 100, {"train": (X, y)}, lambda it, desc=None: it)
        curves[float(std)] = {k: v["train"] for k, v in result.items()}
        run.log(f"  W std {std:.2e}: final training accuracy with batch norm "
                f"{curves[float(std)]['batch norm'][-1]:.3f}, without {curves[float(std)]['plain'][-1]:.3f}")

    n = len(curves)
    ahead = sum(np.mean(c["batch norm"]) > np.mean(c["plain"]) for c in curves.values())
    stuck_plain = sum(c["plain"][-1] < STUCK for c in curves.values())
    stuck_bn = sum(c["batch norm"][-1] < STUCK for c in curves.values())
    run.check_bound(f"share of the {n} scales where batch norm is ahead (mean accuracy over 20 epochs)",
                    ahead / n, low=0.75)
    run.check_bound(f"share of scales where the plain net is stuck (final accuracy < {STUCK})",
                    stuck_plain / n, low=0.5)
    run.check_bound(f"share of scales where the net with batch norm is stuck (final accuracy < {STUCK})",
                    stuck_bn / n, high=2 / 16)

    cols = 4
    fig, axes = figure(cols, -(-n // cols), size=(2.4, 1.9))
    epochs = np.arange(1, 21)
    for i, (ax, (std, c)) in enumerate(zip(axes, curves.items())):
        ax.plot(epochs, c["batch norm"], label="batch norm")
        ax.plot(epochs, c["plain"], "--", label="without")
        ax.set_ylim(0, 1.0)
        ax.set_title(f"W std {std:.2g}", fontsize=8)
        ax.tick_params(labelsize=6)
        if i == 0:
            ax.legend(fontsize=6, loc="upper left")
        if i % cols == 0:
            ax.set_ylabel("train accuracy", fontsize=7)
        else:
            ax.set_yticklabels([])
        if i >= n - cols:
            ax.set_xlabel("epoch", fontsize=7)
        else:
            ax.set_xticklabels([])
    fig.suptitle("SGD lr 0.01 on 1,000 MNIST images: training accuracy with (solid) and without "
                 "(dashed) batch norm", fontsize=8)
    run.savefig(fig, "accuracy")
    run.record(train_accuracy={f"{k:.6g}": v for k, v in curves.items()},
               batch_norm_ahead=int(ahead), stuck_plain=int(stuck_plain), stuck_batch_norm=int(stuck_bn))
