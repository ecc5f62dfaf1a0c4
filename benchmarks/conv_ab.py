"""Recent changes to the convolutional networks, each against the code path it replaced, in
one process with epochs alternating (benchmarks/README.md quotes these runs):

    python benchmarks/conv_ab.py                     # all three, 6 rounds each
    python benchmarks/conv_ab.py pieces --rounds 8

    pieces    the conv weight gradient summed in pieces of 512 KiB (before) or 256 KiB (now):
              SimpleConvNet training at batch 100, 32 and 256
    pool      nn.Sequential's pooling before ReLU (now) or the layers in the order written
              (before): SimpleConvNet training and inference, LeNet-5 training
    col2im    NumPy's col2im (before) or the compiled one (now): LeNet-5 training

The models and data are the speed goals' (workloads.py), each epoch from the same initial
weights. `pool` and `col2im` compute the same numbers by construction, and the last line
says whether the outputs agreed to the bit; `pieces` sums in another order.
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
         "col2im": ["lenet5"]}


_CURRENT = {}   # the current col2im, kept while the old one stands in for it


def _switch(which: str, now: bool) -> None:
    """Put the code path of `which` in place: the current one (now) or the one it replaced."""
    from gradwise.kernels import compiled, reference
    from gradwise.ops import conv

    if which == "pieces":
        conv._CHUNK_BYTES = 1 << (18 if now else 19)
    elif which == "col2im":
        current = _CURRENT.setdefault("col2im", compiled.col2im)
        compiled.col2im = current if now else reference.col2im


def _in_written_order(model):
    """The same layers (and parameters) in a Sequential that never pools before its ReLU."""
    import gradwise.nn as nn

    class InWrittenOrder(nn.Sequential):
        def forward(self, X):
            for layer in self:
                X = layer(X)
            return X

    return InWrittenOrder(*model)


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
            if which == "pool" and not now:
                system.model = _in_written_order(system.model)
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
        for name in CASES[which]:
            ab(which, name, args.rounds)

if __name__ == "__main__":
    main()
