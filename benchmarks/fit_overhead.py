"""What gradwise.train.fit costs over a bare training loop.

Workload: MLP 784-100-100-10 (ReLU), softmax cross-entropy, SGD lr 0.1, batch 100, one epoch
over 60,000 synthetic examples, shuffled every epoch by gradwise's generator.

    bare         the loop a PyTorch user writes: permute, index the batch, forward, loss,
                 zero_grad, backward, step
    fit quiet    fit(..., metrics=(), verbose=0): the loop plus loss tracking and NaN checks
    fit metrics  fit(..., metrics=("accuracy",), verbose=0): plus the training accuracy
    fit bar      fit(..., metrics=("accuracy",), verbose=1): plus the tqdm bar (to /dev/null)

Every variant starts from the same weights and seed, so it does exactly the same arithmetic:
the script checks that each fit variant ends with the bare loop's weights, bit for bit.
Variants take turns within each round (the order rotates) so that machine noise is shared;
the table shows the median epoch time and the overhead against the bare loop.

    python benchmarks/fit_overhead.py [--rounds 5] [--n 60000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim
from gradwise.tensor import Tensor
from gradwise.train import ProgressBar, fit


def make_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 784), dtype=np.float32)
    W = rng.standard_normal((784, 10), dtype=np.float32)
    y = (X @ W).argmax(axis=1).astype(np.int64)  # a learnable labelling
    return X, y


def make_model(init: dict):
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                          nn.Linear(100, 10))
    model.load_state_dict(init)
    return model


def bare(model, X, y, batch: int, lr: float):
    opt = optim.SGD(model.parameters(), lr=lr)
    model.train()
    order = gw.backend.rng().permutation(len(X))
    for i in range(0, len(X), batch):
        idx = order[i:i + batch]
        out = model(Tensor(X[idx]))
        loss = F.cross_entropy(out, Tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()


def fit_variant(metrics, verbose):
    def run(model, X, y, batch, lr):
        cbs = []
        if verbose:
            cbs = [ProgressBar(verbose, file=open(os.devnull, "w"))]
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=lr), (X, y), epochs=1,
            batch_size=batch, metrics=metrics, verbose=verbose, callbacks=cbs)
    return run


VARIANTS = {
    "bare": bare,
    "fit quiet": fit_variant((), 0),
    "fit metrics": fit_variant(("accuracy",), 0),
    "fit bar": fit_variant(("accuracy",), 1),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    args = ap.parse_args()

    X, y = make_data(args.n)
    gw.manual_seed(0)
    init = make_model(nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                                    nn.Linear(100, 10)).state_dict()).state_dict()
    times = {k: [] for k in VARIANTS}
    finals = {}
    names = list(VARIANTS)
    for r in range(args.rounds + 1):  # round 0 warms up and is not counted
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            model = make_model(init)
            gw.manual_seed(1)
            t0 = time.perf_counter()
            VARIANTS[name](model, X, y, args.batch, args.lr)
            dt = time.perf_counter() - t0
            if r:
                times[name].append(dt)
            finals[name] = model.state_dict()

    ok = all(np.array_equal(finals["bare"][k], finals[v][k]) for v in names for k in finals["bare"])
    base = statistics.median(times["bare"])
    print(f"MLP 784-100-100-10, SGD lr {args.lr}, batch {args.batch}, {args.n} examples, "
          f"{args.rounds} rounds (median epoch time)")
    print(f"{'variant':<13}{'epoch s':>9}{'min s':>9}{'overhead':>10}")
    for name in names:
        med = statistics.median(times[name])
        print(f"{name:<13}{med:>9.3f}{min(times[name]):>9.3f}{(med / base - 1) * 100:>9.1f}%")
    print("same final weights as the bare loop (bit for bit):", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
