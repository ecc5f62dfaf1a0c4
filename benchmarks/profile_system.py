"""cProfile one system of one benchmark over one epoch (after the same warm-up as run.py).

    python benchmarks/profile_system.py mlp gradwise            # top 25 by cumulative time
    python benchmarks/profile_system.py mlp gradwise --sort tottime --top 40 --quick

Equivalent to `python -m cProfile -s cumtime` around the timed epoch only, without the data
generation and imports that would otherwise dominate the listing.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmark")
    ap.add_argument("system")
    ap.add_argument("--sort", default="cumtime", help="a pstats sort key (cumtime, tottime, ...)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None, help="also save the raw stats to this file")
    args = ap.parse_args()

    bench = _harness.load(args.benchmark)
    cfg = bench.config(quick=args.quick)
    X, y = bench.make_data(cfg)
    params = bench.init_params(cfg)
    cls = bench.SYSTEMS[args.system]
    n_batches = cfg["n"] // cfg["batch"]
    cls(cfg, X, y, params).epoch(cfg.get("warmup_batches", 20))

    model = cls(cfg, X, y, params)
    prof = cProfile.Profile()
    prof.enable()
    model.epoch(n_batches)
    prof.disable()
    if args.out:
        prof.dump_stats(args.out)
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
