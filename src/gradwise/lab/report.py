"""`gradwise lab report`: the table of experiments, references, our numbers and plots."""
from __future__ import annotations

from pathlib import Path

from .core import REGISTRY, Check, Result, _fmt


def collect(out: Path) -> list[Result]:
    """The results saved in `out`, in the order of `gradwise lab list`."""
    results = []
    for name in REGISTRY:
        path = Path(out) / f"{name}.json"
        if path.exists():
            results.append(Result.load(path))
    return results


def not_run(results: list[Result]) -> tuple[list[str], list[str]]:
    """The experiments without a result among `results`: (those whose dataset files are not
    on this machine, the others), each in the order of `gradwise lab list`."""
    done = {r.name for r in results}
    absent = [name for name in REGISTRY if name not in done]
    no_data = [name for name in absent if REGISTRY[name].missing_data()]
    return no_data, [name for name in absent if name not in no_data]


def _escape(text: str) -> str:
    """A table cell's text: a '|' inside it (as in |a - 0.5|) would end the cell."""
    return text.replace("|", "\\|")


def _cells(check: dict) -> tuple[str, str]:
    """(reference, ours) for one check: a value with its tolerance, a published curve, or
    a bound."""
    tol = f" (±{_fmt(check['tol'])})" if check["tol"] else ""
    kind = check.get("kind")
    if kind == "series":
        ref = f"{check['name']}: {len(check['points'])} published values{tol}"
        ours = f"max diff {_fmt(check['ours'])}"
    elif kind == "bound":
        ref = f"{check['name']}: {Check(**check).expected()}"
        ours = _fmt(check["ours"])
    else:
        ref = f"{check['name']}: {_fmt(check['reference'])}{tol}"
        ours = _fmt(check["ours"])
    return _escape(ref), ours + ("" if check["ok"] else " ✗")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def rerun(r: Result) -> str:
    """The command that produced a result, and how long it took here."""
    return f"`gradwise lab run {r.name}{' --quick' if r.quick else ''}` ({_duration(r.seconds)})"


def markdown(results: list[Result], plots_prefix: str = "") -> str:
    """One row per experiment: what it reproduces and from where, each published number
    with its tolerance, ours, whether all held, links to the plots, and the command that
    reruns it (with the time it took)."""
    lines = ["| experiment | reference | gradwise | reproduced | plots | how to rerun |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        cells = [_cells(c) for c in r.checks]
        refs = "<br>".join(ref for ref, _ in cells)
        ours = "<br>".join(o for _, o in cells)
        plots = " ".join(f"[{p.removeprefix(r.name + '-').removesuffix('.png')}]({plots_prefix}{p})"
                         for p in r.plots)
        mark = "yes" if r.reproduced else "no"
        if r.quick:
            mark += " (quick run)"
        experiment = _escape(f"**{r.title}**<br>`{r.name}`, {r.source}")
        lines.append(f"| {experiment} | {refs} | {ours} | {mark} | {plots} | {rerun(r)} |")
    return "\n".join(lines)


def _headline_cell(label: str, check: dict) -> str:
    """'label ours (published)' for a value, the largest gap for a curve, the bound for a
    claim that is an inequality; a check that failed is marked."""
    kind = check.get("kind")
    if kind == "series":
        text = f"{label}: max diff {_fmt(check['ours'])} over {len(check['points'])} points"
    elif kind == "bound":
        text = f"{label}: {_fmt(check['ours'])} (claim: {Check(**check).expected()})"
    else:
        text = f"{label}: {_fmt(check['ours'])} ({_fmt(check['reference'])})"
    return _escape(text) + ("" if check["ok"] else " ✗")


def headline(r: Result) -> list[str]:
    """The checks that sum a result up, as the experiment names them (its `headline`); the
    first two checks for an experiment that names none or a run that lacks them."""
    exp = REGISTRY.get(r.name)
    by_name = {c["name"]: c for c in r.checks}
    labelled = [(label, by_name[name]) for label, name in (exp.headline if exp else {}).items()
                if name in by_name]
    if not labelled:
        labelled = [(c["name"], c) for c in r.checks[:2]]
    return [_headline_cell(label, c) for label, c in labelled]


def brief_markdown(results: list[Result]) -> str:
    """One short row per experiment: the key numbers (ours, then the published value in
    parentheses), how many of all its checks held, and the command that reruns it."""
    header = ("| experiment | reference | key numbers: gradwise (published) | checks held "
              "| reproduced | how to rerun |")
    lines = [header, "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        held = sum(bool(c["ok"]) for c in r.checks)
        mark = ("yes" if r.reproduced else "no") + (" (quick run)" if r.quick else "")
        lines.append(f"| {_escape(r.title)} | {_escape(r.source)} | {'<br>'.join(headline(r))} "
                     f"| {held}/{len(r.checks)} | {mark} | {rerun(r)} |")
    return "\n".join(lines)
