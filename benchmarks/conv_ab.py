"""Recent changes to the convolutional networks and their neighbours, each against the code
path it replaced, in one process with epochs alternating (benchmarks/README.md quotes these runs):

    python benchmarks/conv_ab.py                     # all of them, 6 rounds each
    python benchmarks/conv_ab.py pieces --rounds 8

    pieces    the conv weight gradient summed in pieces of 512 KiB (before) or 256 KiB (now):
              SimpleConvNet training at batch 100, 32 and 256
    pool      nn.Sequential's pooling before ReLU (now) or the layers in the order written
              (before): SimpleConvNet training and inference, LeNet-5 training
    col2im    NumPy's col2im (before) or the compiled one (now): LeNet-5 training
    relu      ReLU's forward as NumPy's maximum (before; the code it replaced also split large
              arrays over threads under no_grad) or the compiled pass (now): SimpleConvNet
              training and inference, the small MLP's training
    book      the book's SimpleConvNet class (the lab's model, with the workload's weights) in
              the order written with NumPy's maximum (before), or pooling before ReLU with the
              compiled ReLU (now): training
    dropout   dropout's mask drawn row-major, A * D in NumPy's layout (before), or both laid
              out as A (now): the small MLP and SimpleConvNet with nn.Dropout after each
              ReLU (and after the pooling), training on 10,000 images, the same masks

The models and data are the speed goals' (workloads.py), each epoch from the same initial
weights. All but `pieces` and `dropout` compute the same numbers by construction, and each line
says whether the outputs agreed to the bit; `pieces` sums in another order, and `dropout`'s
GEMMs read their operands in another layout (its line gives the largest loss difference).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

CASES = {"pieces": ["convnet", "convnet_b32", "convnet_b256"],
         "pool": ["convnet", "infer_convnet", "lenet5"],
         "col2im": ["lenet5"],
         "relu": ["convnet", "infer_convnet", "mlp"],
         "book": ["convnet"],
         "dropout": []}


_CURRENT = {}   # the current kernels, kept while the old ones stand in for them


def _switch(which: str, now: bool) -> None:
    """Put the code path of `which` in place: the current one (now) or the one it replaced."""
    from gradwise import kernels
    from gradwise.kernels import compiled, reference
    from gradwise.ops import conv

    current = _CURRENT.setdefault("kernels", {"col2im": compiled.col2im, "relu": kernels.relu})
    if which == "pieces":
        conv._CHUNK_BYTES = 1 << (18 if now else 19)
    elif which == "col2im":
        compiled.col2im = current["col2im"] if now else reference.col2im
    elif which in ("relu", "book"):
        kernels.relu = current["relu"] if now else reference.relu
    elif which == "dropout":
        from gradwise.ops import dropout

        kept = _CURRENT.setdefault("dropout", (dropout.keep_mask, dropout._times))
        dropout.keep_mask, dropout._times = kept if now else (
            lambda rng, A, keep_prob: rng.random(A.shape, dtype=np.float32) < keep_prob,
            np.multiply)


def _in_written_order(model):
    """The same layers (and parameters) in a Sequential that never pools before its ReLU."""
    import gradwise.nn as nn

    class InWrittenOrder(nn.Sequential):
        def forward(self, X):
            for layer in self:
                X = layer(X)
            return X

    return InWrittenOrder(*model)


def _book_model(params, now: bool):
    """The lab's SimpleConvNet with the workload's weights; before: a forward hook on its
    ReLU keeps the order as written (hooks turn pooling before ReLU off)."""
    from gradwise.models import SimpleConvNet

    model = SimpleConvNet()
    model.load_state_dict(dict(zip(model.state_dict(), params, strict=True)))
    if not now:
        model.relu1.register_forward_hook(lambda module, inputs, output: None)
    return model


def ab(which: str, name: str, rounds: int) -> None:
    import gradwise.optim as optim

    bench = _harness.load(name)
    cfg = bench.config(quick=False)
    (X, y), params = bench.make_data(cfg), bench.init_params(cfg)
    seconds, outputs = {True: [], False: []}, {}
    for r in range(rounds + 1):                 # round 0 warms both sides up, untimed
        for now in ((True, False) if r % 2 else (False, True)):
            _switch(which, now)
            system = bench.SYSTEMS["gradwise"](cfg, X, y, params)
            if (which == "pool" and not now) or which == "book":
                system.model = (_book_model(params, now) if which == "book"
                                else _in_written_order(system.model))
                system.opt = optim.SGD(system.model.parameters(), lr=system.lr)
            t0 = time.perf_counter()
            out = system.epoch(cfg["n"] // cfg["batch"] if r else 5)
            if r:
                seconds[now].append(time.perf_counter() - t0)
                outputs[now] = out if cfg["train"] else [o.numpy() for o in out]
    _switch(which, True)
    before, after = np.array(seconds[False]), np.array(seconds[True])
    same = all(np.array_equal(a, b) for a, b in zip(outputs[False], outputs[True], strict=True))
    print(f"{which:7s} {name:14s} before {np.median(before):.3f} s  now {np.median(after):.3f} s  "
          f"{np.median(after) / np.median(before):.2f}x (rounds {np.round(after / before, 2).tolist()})  "
          f"outputs the same to the bit: {same}")


def relu_alone(rounds: int) -> None:
    """F.relu by itself, with a graph recorded as in training, on the shapes it meets in the
    speed goals (the small MLP's hidden layer; SimpleConvNet's maps after and before pooling)."""
    import gradwise as gw
    import gradwise.functional as F

    rng = np.random.default_rng(0)
    for shape in [(100, 100), (100, 30, 12, 12), (100, 30, 24, 24)]:
        z = gw.tensor(rng.normal(size=shape).astype(np.float32), requires_grad=True)
        calls = max(10, 2_000_000 // z.size)
        us = {True: [], False: []}
        for r in range(rounds):
            for now in ((True, False) if r % 2 else (False, True)):
                _switch("relu", now)
                F.relu(z)
                t0 = time.perf_counter()
                for _ in range(calls):
                    F.relu(z)
                us[now].append((time.perf_counter() - t0) / calls * 1e6)
        _switch("relu", True)
        print(f"relu    F.relu {'x'.join(map(str, shape)):14s} before {np.median(us[False]):.1f} us  "
              f"now {np.median(us[True]):.1f} us")


def dropout_ab(rounds: int) -> None:
    """The small MLP and SimpleConvNet of the speed goals with nn.Dropout after each ReLU
    (p 0.2 in the MLP; 0.25 after SimpleConvNet's pooling, 0.5 after its hidden layer),
    trained on the workloads' first 10,000 images from one seed, so the masks are the same."""
    import gradwise as gw
    import gradwise.functional as F
    from gradwise import nn, optim

    nets = {"mlp": lambda: nn.Sequential(
                nn.Linear(784, 100), nn.ReLU(), nn.Dropout(0.2), nn.Linear(100, 100), nn.ReLU(),
                nn.Dropout(0.2), nn.Linear(100, 10)),
            "convnet": lambda: nn.Sequential(
                nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                nn.Linear(4320, 100), nn.ReLU(), nn.Dropout(0.5), nn.Linear(100, 10))}
    for name, net in nets.items():
        bench = _harness.load(name)
        cfg = dict(bench.config(quick=False), n=10_000)
        X, y = bench.make_data(cfg)
        seconds, losses = {True: [], False: []}, {}
        for r in range(rounds + 1):             # round 0 warms both sides up, untimed
            for now in ((True, False) if r % 2 else (False, True)):
                _switch("dropout", now)
                gw.manual_seed(0)
                model = net()
                opt = optim.SGD(model.parameters(), lr=0.1)
                t0, out = time.perf_counter(), []
                for i in range(0, 10_000 if r else 500, 100):
                    opt.zero_grad()
                    loss = F.cross_entropy(model(gw.tensor(X[i:i + 100])), gw.tensor(y[i:i + 100]))
                    loss.backward()
                    opt.step()
                    out.append(loss.item())
                if r:
                    seconds[now].append(time.perf_counter() - t0)
                    losses[now] = np.array(out)
        _switch("dropout", True)
        before, after = np.array(seconds[False]), np.array(seconds[True])
        print(f"dropout {name:14s} before {np.median(before):.3f} s  now {np.median(after):.3f} s  "
              f"{np.median(after) / np.median(before):.2f}x (rounds {np.round(after / before, 2).tolist()})  "
              f"largest loss difference {np.abs(losses[True] - losses[False]).max():.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("changes", nargs="*", help=f"any of {list(CASES)} (default: all)")
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    unknown = [c for c in args.changes if c not in CASES]
    if unknown:
        ap.error(f"unknown change {unknown[0]!r}: choose from {list(CASES)}")
    env = _harness.environment()
    print(f"{env['date']}  CPU: {env['processor']}, {env['cpu_count']} cores  numpy {env['numpy']}")
    for which in args.changes or list(CASES):
        if which == "relu":
            relu_alone(args.rounds)
        if which == "dropout":
            dropout_ab(args.rounds)
        for name in CASES[which]:
            ab(which, name, args.rounds)

if __name__ == "__main__":
    main()
