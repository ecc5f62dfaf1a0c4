"""`gradwise lab report`: the table of experiments, references, our numbers and plots."""
from __future__ import annotations

from pathlib import Path

from .core import REGISTRY, Result, _fmt


def collect(out: Path) -> list[Result]:
    """The results saved in `out`, in the order of `gradwise lab list`."""
    results = []
    for name in REGISTRY:
        path = Path(out) / f"{name}.json"
        if path.exists():
            results.append(Result.load(path))
    return results


def _cells(check: dict) -> tuple[str, str]:
    """(reference, ours) for one check: a value with its tolerance, or a published curve."""
    tol = f" (±{_fmt(check['tol'])})" if check["tol"] else ""
    if check.get("kind") == "series":
        ref = f"{check['name']}: {len(check['points'])} published values{tol}"
        ours = f"max diff {_fmt(check['ours'])}"
    else:
        ref = f"{check['name']}: {_fmt(check['reference'])}{tol}"
        ours = _fmt(check["ours"])
    return ref, ours + ("" if check["ok"] else " ✗")


def markdown(results: list[Result], plots_prefix: str = "") -> str:
    """One row per experiment: what it reproduces and from where, each published number
    with its tolerance, ours, whether all held, and links to the plots."""
    lines = ["| experiment | reference | gradwise | reproduced | plots |",
             "| --- | --- | --- | --- | --- |"]
    for r in results:
        cells = [_cells(c) for c in r.checks]
        refs = "<br>".join(ref for ref, _ in cells)
        ours = "<br>".join(o for _, o in cells)
        plots = " ".join(f"[{p.removeprefix(r.name + '-').removesuffix('.png')}]({plots_prefix}{p})"
                         for p in r.plots)
        mark = "yes" if r.reproduced else "no"
        if r.quick:
            mark += " (quick run)"
        experiment = f"**{r.title}**<br>`{r.name}`, {r.source}"
        lines.append(f"| {experiment} | {refs} | {ours} | {mark} | {plots} |")
    return "\n".join(lines)
