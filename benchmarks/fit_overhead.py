"""The MLP workload through the library: nn.Sequential, optim.SGD and gradwise.train.fit.

Workload (the foundation's, see mlp_core.py): MLP 784-100-100-10 (ReLU), softmax cross-entropy,
SGD lr 0.1, batch 100, one epoch over 60,000 synthetic examples, same data, same initial
weights and the same batch order (no shuffling) in every system:

    pytorch        torch.nn.Sequential + torch.optim.SGD, the loop a PyTorch user writes
                   (torch.tensor of each batch, zero_grad, backward, step, loss.item())
    gradwise       fit(model, F.cross_entropy, optim.SGD(...), (X, y), shuffle=False,
                   metrics=("accuracy",), verbose=1): the training loop with its loss
                   tracking, NaN check, accuracy and tqdm progress bar (drawn to /dev/null)
    gradwise loop  nn.Sequential + optim.SGD in the same hand-written loop as pytorch's

Target: gradwise (fit with metrics and bar) <= 0.9x PyTorch's time. Run it with the others:

    python benchmarks/run.py fit_overhead [--repeats 5]

What the loop, metrics and bar cost is a few percent, below the noise between processes; so
this file, run directly, also measures it within one process, where every variant does the
same arithmetic from the same weights and seed (the script checks that each ends with the
bare loop's weights, bit for bit; the order of variants rotates every round):

    python benchmarks/fit_overhead.py [--rounds 5] [--n 60000]

    bare         permute, index the batch, forward, loss, zero_grad, backward, step
    fit quiet    fit(..., metrics=(), verbose=0): the loop plus loss tracking and NaN checks
    fit metrics  fit(..., metrics=("accuracy",), verbose=0): plus the training accuracy
    fit bar      fit(..., metrics=("accuracy",), verbose=1): plus the tqdm bar (to /dev/null)

On a busy machine even that is noisy, so the script ends with fit's own cost per batch
measured with the arithmetic taken out (a model with a fixed output, a leaf for a loss), as a
share of a real training step. OMP_NUM_THREADS=1 runs NumPy's BLAS and PyTorch on one thread
each: on a shared machine spinning BLAS threads cost more than the work, and one thread each
gives steadier ratios (both commands read it).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mlp_core as mlp  # (the workload's data, weights and sanity check)

NAME = "fit_overhead"
DESCRIPTION = ("MLP 784-100-100-10 through nn.Sequential + optim.SGD + fit (accuracy, progress "
               "bar) vs torch.nn + torch.optim, batch 100, 1 epoch")
TARGETS = {"gradwise": {"max_ratio": 0.9, "max_rss_mb": 300}}

config, make_data, init_params, sanity = mlp.config, mlp.make_data, mlp.init_params, mlp.sanity


def _state(params, weight="W", bias="b"):
    """[W1, b1, W2, b2, W3, b3] as the state dict of Sequential(Linear, ReLU, Linear, ReLU, Linear)."""
    keys = [f"{i}.{k}" for i in (0, 2, 4) for k in (weight, bias)]
    return dict(zip(keys, params))


# ---- the systems (harness interface, see _harness.py) ----------------------------------------
class _GradwiseModel:
    def __init__(self, cfg, X, y, params):
        import gradwise as gw
        from gradwise import nn, optim

        self.gw, self.X, self.y, self.batch = gw, X, y, cfg["batch"]
        sizes = cfg["sizes"]
        self.model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
                                   nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                                   nn.Linear(sizes[2], sizes[3]))
        self.model.load_state_dict(_state(params))
        self.opt = optim.SGD(self.model.parameters(), lr=cfg["lr"])

    def info(self):
        return {"dtype": str(next(self.model.parameters()).dtype)}


class GradwiseFit(_GradwiseModel):
    def epoch(self, n_batches):
        from gradwise import functional as F
        from gradwise.train import Callback, ProgressBar, fit

        losses = []

        class Losses(Callback):  # the harness's sanity check needs every batch's loss
            def on_batch_end(self, batch, logs=None):
                losses.append(logs["loss"])

        n = n_batches * self.batch
        with open(os.devnull, "w") as devnull:
            fit(self.model, F.cross_entropy, self.opt, (self.X[:n], self.y[:n]), epochs=1,
                batch_size=self.batch, shuffle=False, metrics=("accuracy",), verbose=1,
                callbacks=[ProgressBar(1, file=devnull), Losses()])
        return losses


class GradwiseLoop(_GradwiseModel):
    def epoch(self, n_batches):
        gw, F = self.gw, self.gw.functional
        model, opt, X, y, bs = self.model, self.opt, self.X, self.y, self.batch
        model.train()
        losses = []
        for i in range(n_batches):
            out = model(gw.tensor(X[i * bs:(i + 1) * bs]))
            loss = F.cross_entropy(out, gw.tensor(y[i * bs:(i + 1) * bs]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses


class PyTorch:
    def __init__(self, cfg, X, y, params):
        import torch

        # 2 threads as NumPy's BLAS on the reference machine; OMP_NUM_THREADS=1 runs both
        # single-threaded (OpenBLAS reads it too), which measures well on a loaded machine
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        self.torch, self.X, self.y, self.batch = torch, X, y, cfg["batch"]
        sizes = cfg["sizes"]
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
                                   nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                                   nn.Linear(sizes[2], sizes[3]))
        self.model.load_state_dict({k: torch.tensor(v) for k, v in
                                    _state(params, "weight", "bias").items()})
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg["lr"])

    def epoch(self, n_batches):
        torch = self.torch
        F = torch.nn.functional
        model, opt, X, y, bs = self.model, self.opt, self.X, self.y, self.batch
        model.train()
        losses = []
        for i in range(n_batches):
            out = model(torch.tensor(X[i * bs:(i + 1) * bs]))
            loss = F.cross_entropy(out, torch.tensor(y[i * bs:(i + 1) * bs]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    def info(self):
        return {"dtype": str(next(self.model.parameters()).dtype),
                "torch_threads": self.torch.get_num_threads()}


SYSTEMS = {"gradwise": GradwiseFit, "pytorch": PyTorch, "gradwise loop": GradwiseLoop}


# ---- the overhead of fit within one process ----------------------------------------------------
def _overhead_variants(model_loss=None):
    import gradwise as gw
    import gradwise.functional as F
    from gradwise import optim

    loss_fn = model_loss or F.cross_entropy
    from gradwise.tensor import Tensor
    from gradwise.train import ProgressBar, fit

    def bare(model, X, y, batch, lr):
        opt = optim.SGD(model.parameters(), lr=lr)
        model.train()
        order = gw.backend.rng().permutation(len(X))
        for i in range(0, len(X), batch):
            idx = order[i:i + batch]
            out = model(Tensor(X[idx]))
            loss = loss_fn(out, Tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()

    def fit_variant(metrics, verbose):
        def run(model, X, y, batch, lr):
            with open(os.devnull, "w") as devnull:
                cbs = [ProgressBar(verbose, file=devnull)] if verbose else []
                fit(model, loss_fn, optim.SGD(model.parameters(), lr=lr), (X, y),
                    epochs=1, batch_size=batch, metrics=metrics, verbose=verbose, callbacks=cbs)
        return run

    return {"bare": bare, "fit quiet": fit_variant((), 0),
            "fit metrics": fit_variant(("accuracy",), 0), "fit bar": fit_variant(("accuracy",), 1)}


def _bookkeeping_us(X, y, batch: int, repeats: int = 30) -> dict:
    """What each fit variant adds per batch, in microseconds, measured with the arithmetic
    taken out: a model that returns a fixed output, a loss that is a leaf, an optimizer step
    over one scalar. Both loops then do nothing but their own bookkeeping (and the batching
    both share), so the difference is fit's cost alone, free of BLAS noise (best of repeats)."""
    import gradwise as gw
    from gradwise import nn

    out = gw.tensor(np.zeros((batch, 10), dtype=np.float32))

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.zeros(1, dtype=np.float32))

        def forward(self, X):
            return out if len(X) == batch else gw.tensor(np.zeros((len(X), 10), np.float32))

    def loss_fn(o, t):
        return gw.tensor(np.float32(1.0), requires_grad=True)

    variants = _overhead_variants(model_loss=loss_fn)
    best = {}
    for name, run in variants.items():
        runs = []
        for _ in range(repeats):
            model = Fixed()
            t0 = time.perf_counter()
            run(model, X, y, batch, 0.0)
            runs.append(time.perf_counter() - t0)
        best[name] = min(runs)
    n_batches = -(-len(X) // batch)
    return {k: (v - best["bare"]) / n_batches * 1e6 for k, v in best.items() if k != "bare"}


def main():
    import gradwise as gw
    from gradwise import nn

    ap = argparse.ArgumentParser(description="the overhead of fit over a bare loop, in one process")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    args = ap.parse_args()

    cfg = {**config(), "n": args.n}
    X, y = make_data(cfg)
    init = _state(init_params(cfg))

    def make_model():
        model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                              nn.Linear(100, 10))
        model.load_state_dict(init)
        return model

    variants = _overhead_variants()
    names = list(variants)
    times = {k: [] for k in names}
    cpu = {k: [] for k in names}
    finals = {}
    for r in range(args.rounds + 1):  # round 0 warms up and is not counted
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            model = make_model()
            gw.manual_seed(1)
            c0, t0 = time.process_time(), time.perf_counter()
            variants[name](model, X, y, args.batch, args.lr)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if r:
                times[name].append(dt)
                cpu[name].append(dc)
            finals[name] = model.state_dict()

    ok = all(np.array_equal(finals["bare"][k], finals[v][k]) for v in names for k in finals["bare"])
    base, base_cpu = statistics.median(times["bare"]), statistics.median(cpu["bare"])
    print(f"MLP 784-100-100-10, SGD lr {args.lr}, batch {args.batch}, {args.n} examples, "
          f"{args.rounds} rounds (medians; CPU time is the process's, all threads: the steadier "
          f"measure on a loaded machine)")
    print("| variant | wall s/epoch | overhead (wall) | CPU s/epoch | overhead (CPU) |")
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        med, med_cpu = statistics.median(times[name]), statistics.median(cpu[name])
        print(f"| {name} | {med:.3f} | {(med / base - 1) * 100:+.1f}% | {med_cpu:.3f} | "
              f"{(med_cpu / base_cpu - 1) * 100:+.1f}% |")
    print("same final weights as the bare loop (bit for bit):", "yes" if ok else "NO")
    step_us = base / -(-args.n // args.batch) * 1e6
    print(f"\nfit's own cost per batch, the arithmetic taken out (best of 30), against a training "
          f"step of {step_us:.0f} us (the bare loop's median):")
    # one input column: the model ignores X, and copying 784 of them would only add noise
    for name, us in _bookkeeping_us(np.ascontiguousarray(X[:, :1]), y, args.batch).items():
        print(f"  {name:<12} {us:6.1f} us per batch = {us / step_us * 100:4.1f}% of a step")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
