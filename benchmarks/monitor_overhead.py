"""What the training-health monitor costs: fit with and without fit(..., monitor=...).

Workload (the foundation's, see mlp_core.py): MLP 784-100-100-10 (ReLU), softmax cross-entropy,
SGD lr 0.1, batch 100, one epoch over synthetic examples, the same data, initial weights and
seed for every variant, in one process (the order of variants rotates every round; round 0
warms up and is not counted):

    fit            fit(..., metrics=("accuracy",), verbose=0)
    monitor        the same with monitor=HealthMonitor(verbose=0): every batch measured
                   (a copy of the weights for the update ratio, statistics of every layer's
                   output, the gradient norms)
    monitor /10    monitor=HealthMonitor(every=10, verbose=0): one batch in ten measured

The monitor only reads: the script checks that every variant ends with the same weights, bit
for bit.

    python benchmarks/monitor_overhead.py [--rounds 5] [--n 30000]
    OPENBLAS_NUM_THREADS=1 python benchmarks/monitor_overhead.py     # steadier on a shared machine
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlp_core import config, init_params, make_data


def main() -> int:
    import gradwise as gw
    import gradwise.functional as F
    from gradwise import nn, optim
    from gradwise.train import HealthMonitor, fit

    ap = argparse.ArgumentParser(description="the cost of the training-health monitor")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=30_000)
    args = ap.parse_args()

    cfg = {**config(), "n": args.n}
    X, y = make_data(cfg)
    keys = [f"{i}.{k}" for i in (0, 2, 4) for k in ("W", "b")]
    init = dict(zip(keys, init_params(cfg)))

    def run(monitor):
        model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                              nn.Linear(100, 10))
        model.load_state_dict(init)
        gw.manual_seed(1)
        t0, c0 = time.perf_counter(), time.process_time()
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=cfg["lr"]), (X, y), epochs=1,
            batch_size=cfg["batch"], metrics=("accuracy",), verbose=0, monitor=monitor())
        return time.perf_counter() - t0, time.process_time() - c0, model.state_dict()

    variants = {"fit": lambda: False, "monitor": lambda: HealthMonitor(verbose=0),
                "monitor /10": lambda: HealthMonitor(every=10, verbose=0)}
    names = list(variants)
    times = {k: [] for k in names}
    cpu = {k: [] for k in names}
    finals = {}
    for r in range(args.rounds + 1):
        for name in names[r % len(names):] + names[:r % len(names)]:
            dt, dc, finals[name] = run(variants[name])
            if r:
                times[name].append(dt)
                cpu[name].append(dc)

    same = all(np.array_equal(finals["fit"][k], finals[v][k]) for v in names for k in finals["fit"])
    base, base_cpu = statistics.median(times["fit"]), statistics.median(cpu["fit"])
    print(f"MLP 784-100-100-10, SGD lr {cfg['lr']}, batch {cfg['batch']}, {args.n} examples, "
          f"{args.rounds} rounds (medians; CPU time counts every thread of the process, and is "
          f"the steadier figure on a busy machine)")
    print("| variant | wall s/epoch | best wall | vs fit | CPU s/epoch | CPU vs fit |\n"
          "| --- | --- | --- | --- | --- | --- |")
    for name in names:
        med, med_cpu = statistics.median(times[name]), statistics.median(cpu[name])
        print(f"| {name} | {med:.3f} | {min(times[name]):.3f} | {med / base:.2f}x | {med_cpu:.3f} | "
              f"{med_cpu / base_cpu:.2f}x |")
    print("same final weights in every variant (bit for bit):", "yes" if same else "NO")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
