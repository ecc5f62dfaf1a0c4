"""Random hyperparameter search on a log scale, judged on a validation split (the book,
ch. 6.5, figure 6-24).

The first 500 MNIST training images, shuffled and split 400 / 100 into training and
validation data (the test images stay untouched: choosing by them would tune to them).
Each of 100 trials draws

    learning rate   10 ** U(-6, -2)
    weight decay    10 ** U(-8, -4)

and trains a fresh 7-layer network (784, six hidden layers of 100, 10; ReLU, He) with SGD and
the book's weight decay for 50 epochs of mini-batches of 100; its validation accuracy after
the last epoch ranks it. The draws are uniform in the exponent because a hyperparameter's
effect scales with its order of magnitude: drawn uniformly, 90% of the learning rates would
fall in [1e-3, 1e-2].

Reference: ch. 6.5.3: the best trials have learning rates of 0.001 to 0.01 (and weight
decay of 1e-8 to 1e-6), the range to search next, more finely. Checked: the best 10 trials'
learning rates all lie in [1e-3, 1e-2]; the best reaches a validation accuracy of about 0.8
(checked in [0.7, 0.9]; the book's figure shows its best curves there). Weight decay is
recorded, not checked: below 1e-4 it shrinks the weights by at most 200 x 0.01 x 1e-4 = 2e-4
of their size over a trial's 200 steps, so the best trials spread over the whole drawn range and the book's
narrower window is one run's draw rather than something the data can decide.
"""
from __future__ import annotations

import numpy as np

from ... import backend, manual_seed, optim
from ...data import train_dev_test_split
from ..book import MNIST_FILES, SOURCE, decay_weights_only, mnist, multi_layer_net, train_epochs
from ..core import experiment
from ..plots import figure

SHOWN = 20


def trial(lr: float, weight_decay: float, train, val, epochs: int) -> dict:
    model = multi_layer_net([100] * 6)
    opt = optim.SGD(decay_weights_only(model, weight_decay), lr=lr)
    curves = train_epochs({"trial": (model, opt)}, *train, epochs, 100, {"train": train, "val": val},
                          lambda it, desc=None: it)["trial"]
    return {"lr": lr, "weight_decay": weight_decay, "val": curves["val"], "train": curves["train"]}


@experiment("hyperparameter_search", "Random search of lr and weight decay on a log scale, with a validation split",
            f"{SOURCE}, ch. 6.5 (hyperparameter_optimization.py, figure 6-24)",
            quick_note="20 trials of 20 epochs; the best 3 checked", needs=MNIST_FILES,
            headline={"best validation accuracy": "best validation accuracy",
                      "best 10 with lr in [1e-3, 1e-2]": "share of the best 10 trials with lr in [1e-3, 1e-2]"})
def run(run):
    (X, y), _ = mnist(n_train=500)
    manual_seed(0)
    train, val, _ = train_dev_test_split(X, y, ratios=(0.8, 0.2, 0.0))
    n_trials, epochs, best_n = (20, 20, 3) if run.quick else (100, 50, 10)
    trials = []
    for _ in run.progress(range(n_trials), desc="trials"):
        u_wd, u_lr = backend.rng().uniform(size=2)
        trials.append(trial(10 ** (-6 + 4 * u_lr), 10 ** (-8 + 4 * u_wd), train, val, epochs))
    trials.sort(key=lambda t: t["val"][-1], reverse=True)
    for i, t in enumerate(trials[:SHOWN], 1):
        run.log(f"  Best-{i}: val acc {t['val'][-1]:.2f} | lr {t['lr']:.3g}, weight decay {t['weight_decay']:.3g}")

    in_range = np.mean([1e-3 <= t["lr"] <= 1e-2 for t in trials[:best_n]])
    run.check_bound(f"share of the best {best_n} trials with lr in [1e-3, 1e-2]", in_range, low=1.0)
    if run.quick:   # 20 epochs: learning has begun, not finished
        run.check_bound("best validation accuracy after 20 epochs", trials[0]["val"][-1], low=0.3)
    else:
        run.check_bound("best validation accuracy", trials[0]["val"][-1], low=0.7, high=0.9)

    shown = trials[:SHOWN]
    fig, axes = figure(5, -(-len(shown) // 5), size=(2.2, 1.8))
    for i, (ax, t) in enumerate(zip(axes, shown)):
        epochs = np.arange(1, len(t["val"]) + 1)
        ax.plot(epochs, t["val"], label="validation")
        ax.plot(epochs, t["train"], "--", label="train")
        ax.set_ylim(0, 1)
        ax.set_title(f"Best-{i + 1}: lr {t['lr']:.1e}, wd {t['weight_decay']:.0e}", fontsize=6.5)
        ax.tick_params(labelsize=6)
        if i % 5:                       # tick labels on the outer panels only, as the book
            ax.set_yticklabels([])
        if i < len(shown) - 5:
            ax.set_xticklabels([])
        if i == 0:
            ax.legend(fontsize=6, loc="upper left")
    fig.suptitle(f"the best {min(SHOWN, len(trials))} of {n_trials} trials: accuracy per epoch", fontsize=8)
    run.savefig(fig, "best-trials")

    fig, (ax,) = figure(1, size=(5.0, 3.8))
    sc = ax.scatter([t["lr"] for t in trials], [t["weight_decay"] for t in trials],
                    c=[t["val"][-1] for t in trials], cmap="viridis", vmin=0, vmax=1, s=22)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axvspan(1e-3, 1e-2, color="tab:green", alpha=0.08)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("weight decay")
    ax.set_title("every trial, coloured by its validation accuracy", fontsize=9)
    fig.colorbar(sc, ax=ax, label="validation accuracy")
    run.savefig(fig, "search-space")
    run.record(trials=[{"lr": t["lr"], "weight_decay": t["weight_decay"], "val_accuracy": t["val"][-1],
                        "train_accuracy": t["train"][-1]} for t in trials])
