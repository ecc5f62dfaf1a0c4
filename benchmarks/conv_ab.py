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
    layouts   ReLU's backward where the gradient comes in another layout than the activation
              (a broadcast one from a global average pool): NumPy's masked copy across the
              two layouts (before) or a copy into the activation's layout and the compiled
              pass (now): the call by itself, then SmallResNet and SmallGoogLeNet training
              at batch 32

The models and data are the speed goals' (workloads.py), each epoch from the same initial
weights. All but `pieces` and `dropout` compute the same numbers by construction, and each line
says whether the outputs agreed to the bit (or gives the largest loss difference); `pieces`
sums in another order, and `dropout`'s GEMMs read their operands in another layout.
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
         "dropout": [],
         "layouts": []}


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
    elif which == "layouts":
        current.setdefault("flat_as", kernels._flat_as)
        kernels._flat_as = current["flat_as"] if now else kernels._flat_alike
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
    same = all(np.array_equal(a, b) for a, b in zip(outputs[False], outputs[True], strict=True))
    _report(which, name, seconds, f"outputs the same to the bit: {same}")


def _report(which: str, name: str, seconds: dict, tail: str) -> None:
    """One line: the medians of the epochs before and now, their ratio and each round's."""
    before, after = np.array(seconds[False]), np.array(seconds[True])
    print(f"{which:7s} {name:14s} before {np.median(before):.3f} s  now {np.median(after):.3f} s  "
          f"{np.median(after) / np.median(before):.2f}x (rounds {np.round(after / before, 2).tolist()})  "
          + tail)


def relu_alone(rounds: int) -> None:
    """F.relu by itself, with a graph recorded as in training, on the shapes it meets in the
    speed goals (the small MLP's hidden layer; SimpleConvNet's maps after and before pooling)."""
    import gradwise as gw
    import gradwise.functional as F

    rng = np.random.default_rng(0)
    for shape in [(100, 100), (100, 30, 12, 12), (100, 30, 24, 24)]:
        z = gw.tensor(rng.normal(size=shape).astype(np.float32), requires_grad=True)
        _calls_ab("relu", f"F.relu {'x'.join(map(str, shape))}", rounds, F.relu, z)


def _calls_ab(which: str, label: str, rounds: int, fn, *args) -> None:
    """fn(*args) by itself, before and now alternating, in us a call (median of rounds)."""
    calls = max(10, 2_000_000 // args[-1].size)
    us = {True: [], False: []}
    for r in range(rounds):
        for now in ((True, False) if r % 2 else (False, True)):
            _switch(which, now)
            fn(*args)
            t0 = time.perf_counter()
            for _ in range(calls):
                fn(*args)
            us[now].append((time.perf_counter() - t0) / calls * 1e6)
    _switch(which, True)
    print(f"{which:7s} {label:36s} before {np.median(us[False]):.1f} us  now {np.median(us[True]):.1f} us")


def steps_ab(which: str, rounds: int) -> None:
    """Training steps of models outside the speed goals, each from one seed (the same
    weights, the same dropout masks), on the workloads' first images (28 x 28):

    dropout   the small MLP and SimpleConvNet with nn.Dropout after each ReLU (p 0.2 in the
              MLP; 0.25 after SimpleConvNet's pooling, 0.5 after its hidden layer), 100
              steps at batch 100
    layouts   SmallResNet and SmallGoogLeNet (their global average pool hands a broadcast
              gradient to the ReLU before it), 10 steps at batch 32"""
    import gradwise as gw
    import gradwise.functional as F
    from gradwise import nn, optim
    from gradwise.models import SmallGoogLeNet, SmallResNet

    nets = {"dropout": {
                "mlp": lambda: nn.Sequential(
                    nn.Linear(784, 100), nn.ReLU(), nn.Dropout(0.2), nn.Linear(100, 100),
                    nn.ReLU(), nn.Dropout(0.2), nn.Linear(100, 10)),
                "convnet": lambda: nn.Sequential(
                    nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                    nn.Flatten(), nn.Linear(4320, 100), nn.ReLU(), nn.Dropout(0.5),
                    nn.Linear(100, 10))},
            "layouts": {"SmallResNet": SmallResNet, "SmallGoogLeNet": SmallGoogLeNet}}[which]
    steps, batch = (100, 100) if which == "dropout" else (10, 32)
    for name, net in nets.items():
        bench = _harness.load("mlp" if name == "mlp" else "convnet")
        cfg = dict(bench.config(quick=False), n=steps * batch)
        X, y = bench.make_data(cfg)
        seconds, losses = {True: [], False: []}, {}
        for r in range(rounds + 1):             # round 0 warms both sides up, untimed
            for now in ((True, False) if r % 2 else (False, True)):
                _switch(which, now)
                gw.manual_seed(0)
                model = net()
                opt = optim.SGD(model.parameters(), lr=0.1)
                t0, out = time.perf_counter(), []
                for i in range(0, steps * batch if r else 2 * batch, batch):
                    opt.zero_grad()
                    xb, yb = gw.tensor(X[i:i + batch]), gw.tensor(y[i:i + batch])
                    loss = F.cross_entropy(model(xb), yb)
                    loss.backward()
                    opt.step()
                    out.append(loss.item())
                if r:
                    seconds[now].append(time.perf_counter() - t0)
                    losses[now] = np.array(out)
        _switch(which, True)
        _report(which, name, seconds,
                f"largest loss difference {np.abs(losses[True] - losses[False]).max():.1e}")


def layouts_alone(rounds: int) -> None:
    """ReLU's backward by itself where the gradient comes in another layout than the
    activation: the broadcast gradient of SmallResNet's global average pool at batch 32 and
    100 (64 x 7 x 7 maps), and a row-major gradient of a batch-last (100, 100) or (100, 1024)."""
    from gradwise import kernels

    rng = np.random.default_rng(0)
    cases = []
    for m in (32, 100):
        A = kernels.from_batch_last(np.maximum(rng.normal(size=(64, 7, 7, m)), 0).astype(np.float32))
        g = rng.normal(size=(m, 64, 1, 1)).astype(np.float32)
        cases.append((f"relu_backward broadcast {m}x64x7x7", kernels.relu_backward,
                      (np.broadcast_to(g, A.shape), A)))
    for n in (100, 1024):
        A = np.asfortranarray(np.maximum(rng.normal(size=(100, n)), 0).astype(np.float32))
        cases.append((f"relu_backward row-major 100x{n}", kernels.relu_backward,
                      (rng.normal(size=(100, n)).astype(np.float32), A)))
    for label, fn, args in cases:
        _calls_ab("layouts", label, rounds, fn, *args)


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
        if which == "layouts":
            layouts_alone(args.rounds)
        if which in ("dropout", "layouts"):
            steps_ab(which, args.rounds)
        for name in CASES[which]:
            ab(which, name, args.rounds)

if __name__ == "__main__":
    main()
