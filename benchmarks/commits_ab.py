"""The workloads' epochs on this checkout against another commit of gradwise, in processes
alternating between the two (benchmarks/README.md quotes these runs):

    python benchmarks/commits_ab.py HEAD~1 infer_lenet5 lenet5 --rounds 5
    python benchmarks/commits_ab.py HEAD~1 convnet --batch 1   # at another batch size

The other commit is checked out into a temporary git worktree, and each process imports
gradwise from one of the two `src` folders and measures the workload as run.py's children do
(_harness.child_main: a warm-up, then one epoch, or the median of several short ones). The
ratio is the median of the rounds' ratios, this checkout's time over the other commit's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def child(name: str, batch: str) -> None:
    """The harness's measurement of gradwise on the workload (run.py's child), its seconds."""
    sys.path.insert(0, HERE)
    import _harness
    import workloads

    cfg = workloads.config(name, batch=int(batch) if batch != "-" else None)
    print(json.dumps(_harness.child_main(name, "gradwise", cfg)["seconds"]))


def epoch_seconds(src: str, name: str, batch: int | None) -> float:
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, __file__, "--child", name, str(batch or "-")], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        return child(*sys.argv[2:4])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the commit to compare against (HEAD~1, a hash, a branch)")
    ap.add_argument("workloads", nargs="+", help="names from workloads.py")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None, help="another batch size (workloads.config)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = os.path.join(tmp, "other")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", other, args.rev],
                       check=True, capture_output=True)
        try:
            rev = subprocess.run(["git", "-C", other, "rev-parse", "--short", "HEAD"], check=True,
                                 capture_output=True, text=True).stdout.strip()
            for name in args.workloads:
                now, before = [], []
                for r in range(args.rounds):
                    for this in ((True, False) if r % 2 else (False, True)):
                        t = epoch_seconds(os.path.join(ROOT if this else other, "src"), name, args.batch)
                        (now if this else before).append(t)
                ratios = np.array(now) / np.array(before)
                print(f"{name:14s} {rev} {np.median(before):.3f} s  this checkout {np.median(now):.3f} s  "
                      f"{np.median(ratios):.2f}x (rounds {np.round(ratios, 2).tolist()})")
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", other],
                           check=False, capture_output=True)


if __name__ == "__main__":
    main()
