"""`gradwise lab report`: the table of experiments, references, our numbers and plots."""
from __future__ import annotations

from pathlib import Path

from .core import REGISTRY, Check, Result


def collect(out: Path) -> list[Result]:
    results = []
    for name in REGISTRY:
        path = Path(out) / f"{name}.json"
        if path.exists():
            results.append(Result.load(path))
    return results


def markdown(results: list[Result], plots_prefix: str = "") -> str:
    lines = ["| experiment | reference | gradwise | reproduced | plots |",
             "| --- | --- | --- | --- | --- |"]
    for r in results:
        refs = "<br>".join(f"{c['name']}: {_v(c['reference'])}" for c in r.checks)
        ours = "<br>".join(f"{_v(c['ours'])}" + ("" if c["ok"] else " ✗") for c in r.checks)
        plots = " ".join(f"[{p.split('-', 1)[-1].removesuffix('.png')}]({plots_prefix}{p})" for p in r.plots)
        mark = "yes" if r.reproduced else "no"
        if r.quick:
            mark += " (quick)"
        lines.append(f"| {r.title} | {refs} | {ours} | {mark} | {plots} |")
    return "\n".join(lines)


def _v(x: float) -> str:
    return Check("", x, x, 0, True).describe().split(": ", 1)[1].split(" vs ")[0]
