"""Run the benchmarks, gradwise beside PyTorch; results go to benchmarks/results/*.json.

    python benchmarks/run.py                    # the nine workloads of workloads.py, 3 rounds
    python benchmarks/run.py mlp infer_mlp --repeats 5
    python benchmarks/run.py mlp_core fit_overhead data_loader   # the others, when named
    python benchmarks/run.py --quick            # a smaller workload, 1 round: a smoke test
    python benchmarks/run.py --systems gradwise pytorch
    python benchmarks/run.py convnet lenet5 --batch 1   # the workloads at another batch size

Each measurement runs in its own child process (see _harness.py). The ratio to PyTorch is the
median of the rounds' ratios (each round's gradwise time over that round's PyTorch time), with
their min-max as spread. A new workload is a line in workloads.WORKLOADS; a new benchmark of
another shape is a module in this folder with the interface of _harness.py, added to OTHERS.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness
import workloads  # (NumPy only: the parent never imports torch or gradwise)

DEFAULT = workloads.NAMES  # the speed goals' table, in its order
OTHERS = ["mlp_core", "fit_overhead", "data_loader"]
BENCHMARKS = DEFAULT + OTHERS


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # one measurement, in a fresh process
        bench, system, cfg = argv[1], argv[2], json.loads(argv[3])
        _harness.emit(_harness.child_main(bench, system, cfg))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmarks", nargs="*", metavar="BENCHMARK",
                    help=f"any of {BENCHMARKS} (default: {', '.join(DEFAULT)})")
    ap.add_argument("--repeats", type=int, default=None,
                    help="rounds; each system runs once per round (default 3, 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="a smaller workload and 1 round")
    ap.add_argument("--systems", nargs="+", default=None, help="a subset of the systems")
    ap.add_argument("--batch", type=int, default=None,
                    help="run the workloads at this batch size (workloads.config): a search "
                         "for cliffs; their goals are for the table's batch sizes, and are "
                         "not checked")
    ap.add_argument("--no-save", action="store_true", help="do not write results JSON")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    unknown = [b for b in args.benchmarks if b not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS}")
    if args.batch is not None and (args.batch < 1 or set(args.benchmarks) - set(DEFAULT)):
        ap.error(f"--batch takes a positive size and only the workloads {DEFAULT}")

    env = _harness.environment()
    print(f"{env['date']}  python {env['python']}  numpy {env['numpy']}  torch {env['torch']}")
    print(f"CPU: {env['processor']}, {env['cpu_count']} cores ({env['machine']})")
    print(f"NumPy BLAS: {'; '.join(env['numpy_blas']) or 'none found'}")
    for line in env["torch_config"]:
        print(f"PyTorch: {line}")
    print("threads: each framework's default (no set_num_threads, OMP_NUM_THREADS "
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')})")
    failed = False
    summaries = []
    for name in args.benchmarks or DEFAULT:
        bench = _harness.load(name)
        cfg = bench.config(quick=args.quick, **({} if args.batch is None else {"batch": args.batch}))
        at = "" if args.batch is None else f", run at batch {args.batch}"
        print(f"\n{bench.NAME}: {bench.DESCRIPTION}  (n={cfg['n']}{at}, {repeats} round(s))")
        summary = _harness.measure(name, cfg, repeats, args.systems, goals=args.batch is None)
        summaries.append(summary)
        print()
        print(_harness.table(summary))
        for p in summary["sanity_problems"]:
            print(f"SANITY: {p}")
            failed = True
        if not summary["sanity_problems"]:
            print("sanity: all systems reach the same loss (first batch and last 10% agree)")
        ref = summary["rows"].get("pytorch")
        for s, r, t in _harness.summary_rows(summary):
            if ref is None:
                continue
            goal = "no goal" if t is None else (
                f"goal <= {t['max_ratio']}x"
                + (f" and <= {t['max_rss_mb']} MB" if "max_rss_mb" in t else "")
                + f" -> {'met' if t['met'] else 'NOT met'}")
            print(f"{bench.NAME}: {s} {r['median_s']:.3f} s, PyTorch {ref['median_s']:.3f} s: "
                  f"{r['ratio']:.2f}x (rounds {_harness._spread(r)}); peak RSS "
                  f"{r['peak_rss_mb']:.0f} / {ref['peak_rss_mb']:.0f} MB; {goal}")
        if not args.no_save:
            path = _harness.save({"environment": env, "repeats": repeats, "quick": args.quick,
                                  **summary}, name + ("-quick" if args.quick else "")
                                 + (f"-b{args.batch}" if args.batch else ""))
            print(f"saved {os.path.relpath(path)}")

    print(f"\nSummary ({repeats} round(s){', --quick' if args.quick else ''}; "
          f"{env['processor']}, {env['cpu_count']} cores):\n")
    print(_harness.summary_table(summaries))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
