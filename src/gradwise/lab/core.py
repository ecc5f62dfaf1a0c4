"""The lab's machinery: a catalogue of experiments, their checks against published numbers,
and the result files they write.

An experiment is a function decorated with @experiment. It receives a Run (the output
folder, the quick flag, a progress-bar factory) and records what it measured with
run.check(name, ours, reference, tol): a comparison with the published value. It may save
plots with run.savefig(fig, name). The lab writes <out>/<name>.json; `gradwise lab report`
gathers those files into the Markdown table that README.md shows.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

REGISTRY: dict[str, "Experiment"] = {}


@dataclass
class Check:
    """One published number and ours. ok when |ours - reference| <= tol."""

    name: str
    ours: float
    reference: float
    tol: float
    ok: bool

    def describe(self) -> str:
        return f"{self.name}: {_fmt(self.ours)} vs {_fmt(self.reference)} (±{_fmt(self.tol)})"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


@dataclass
class Experiment:
    name: str
    title: str
    source: str          # where the reference comes from (course assignment, book chapter)
    fn: Callable
    quick_note: str = ""  # what --quick changes

    def run(self, out: Path, quick: bool = False, progress: bool = True) -> "Result":
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        run = Run(self, out, quick, progress)
        start = time.perf_counter()
        run.notes = self.fn(run) or {}
        run.seconds = time.perf_counter() - start
        result = run.result()
        result.save(out / f"{self.name}.json")
        return result


def experiment(name: str, title: str, source: str, quick_note: str = ""):
    """Register a lab experiment under `name`."""
    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"lab: experiment {name!r} is registered twice")
        REGISTRY[name] = Experiment(name, title, source, fn, quick_note)
        return fn
    return register


class Run:
    """What an experiment gets: where to write, how big to run, and where to record checks."""

    def __init__(self, exp: Experiment, out: Path, quick: bool, progress: bool):
        self.experiment, self.out, self.quick, self.progress_enabled = exp, out, quick, progress
        self.checks: list[Check] = []
        self.plots: list[str] = []
        self.metrics: dict = {}
        self.notes: dict = {}
        self.seconds = 0.0

    def check(self, name: str, ours, reference, tol) -> Check:
        ours, reference = float(ours), float(reference)
        c = Check(name, ours, reference, float(tol), bool(abs(ours - reference) <= tol))
        self.checks.append(c)
        return c

    def record(self, **metrics) -> None:
        """Numbers worth keeping that have no published counterpart (curves, timings)."""
        self.metrics.update(metrics)

    def progress(self, iterable=None, total=None, desc=None):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc or self.experiment.name, leave=False,
                    disable=not self.progress_enabled, dynamic_ncols=True)

    def savefig(self, fig, name: str) -> str:
        path = self.out / f"{self.experiment.name}-{name}.png"
        _atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.plots.append(path.name)
        return str(path)

    def result(self) -> "Result":
        e = self.experiment
        return Result(e.name, e.title, e.source, self.quick, all(c.ok for c in self.checks) and bool(self.checks),
                      [asdict(c) for c in self.checks], self.metrics, self.plots, round(self.seconds, 2))


@dataclass
class Result:
    name: str
    title: str
    source: str
    quick: bool
    reproduced: bool
    checks: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)
    seconds: float = 0.0

    def save(self, path: Path) -> None:
        text = json.dumps(asdict(self), indent=2, default=_jsonable)
        _atomic_write(Path(path), lambda f: f.write(text.encode()))

    @classmethod
    def load(cls, path: Path) -> "Result":
        return cls(**json.loads(Path(path).read_text()))

    def summary(self) -> str:
        mark = "reproduced" if self.reproduced else "NOT reproduced"
        lines = [f"{self.name}: {mark} in {self.seconds:.1f} s" + (" (quick)" if self.quick else "")]
        lines += [("  ok   " if c["ok"] else "  MISS ") + Check(**c).describe() for c in self.checks]
        return "\n".join(lines)


def _jsonable(v):
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serializable: {type(v).__name__}")


def _atomic_write(path: Path, write: Callable) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
