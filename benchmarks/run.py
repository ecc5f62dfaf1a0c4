"""Run the benchmarks and print a table per benchmark; results go to benchmarks/results/*.json.

    python benchmarks/run.py                    # every benchmark, 3 rounds
    python benchmarks/run.py mlp --repeats 5
    python benchmarks/run.py --quick            # a smaller workload, 1 round: a smoke test
    python benchmarks/run.py --systems gradwise pytorch

Each measurement runs in its own child process (see _harness.py). A new benchmark is a module
in this folder with the interface described in _harness.py, added to BENCHMARKS below.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

BENCHMARKS = ["mlp", "cnn", "cnn_lenet5", "cnn_infer", "fit_overhead", "data_loader"]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # one measurement, in a fresh process
        bench, system, cfg = argv[1], argv[2], json.loads(argv[3])
        _harness.emit(_harness.child_main(bench, system, cfg))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmarks", nargs="*", metavar="BENCHMARK",
                    help=f"any of {BENCHMARKS} (default: all)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="rounds; each system runs once per round (default 3, 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="a smaller workload and 1 round")
    ap.add_argument("--systems", nargs="+", default=None, help="a subset of the systems")
    ap.add_argument("--no-save", action="store_true", help="do not write results JSON")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    unknown = [b for b in args.benchmarks if b not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS}")

    env = _harness.environment()
    print(f"{env['date']}  {env['processor']}, {env['cpu_count']} cores  python {env['python']}"
          f"  numpy {env['numpy']}  torch {env['torch']}")
    print(f"numpy BLAS: {'; '.join(env['numpy_blas'])}")
    failed = False
    for name in args.benchmarks or BENCHMARKS:
        bench = _harness.load(name)
        cfg = bench.config(quick=args.quick)
        print(f"\n{bench.NAME}: {bench.DESCRIPTION}  (n={cfg['n']}, {repeats} round(s))")
        summary = _harness.measure(name, cfg, repeats, args.systems)
        print()
        print(_harness.table(summary))
        for p in summary["sanity_problems"]:
            print(f"SANITY: {p}")
            failed = True
        if not summary["sanity_problems"]:
            print("sanity: all systems reach the same loss (first batch and last 10% agree)")
        for s, t in summary["targets"].items():
            verdict = "met" if t["met"] else "NOT met"
            print(f"target {s}: <= {t['max_ratio']}x PyTorch and <= {t['max_rss_mb']} MB: "
                  f"{t['ratio']:.2f}x, {t['rss']:.0f} MB -> {verdict}")
        if not args.no_save:
            path = _harness.save({"environment": env, "repeats": repeats, "quick": args.quick,
                                  **summary}, name + ("-quick" if args.quick else ""))
            print(f"saved {os.path.relpath(path)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
