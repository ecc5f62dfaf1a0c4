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
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..io import atomic_write, save_figure

REGISTRY: dict[str, Experiment] = {}


@dataclass
class Check:
    """One published number and ours. ok when |ours - reference| <= tol.

    A series check (kind 'series') compares a whole published curve, such as the costs a
    notebook printed every 1000 iterations: `ours` is then the largest |ours - published|
    over the points, `reference` 0, and `points` holds [step, ours, published] triples.

    A bound check (kind 'bound') holds a claim that is an inequality, as most of the book's
    figures make ("std 0.01 keeps activations near 0.5", "the gap narrows"): ok when
    low <= ours <= high, a missing side unbounded; `reference` is then the bound (the
    midpoint of a two-sided one) and `tol` half the width (0 for one side).
    """

    name: str
    ours: float
    reference: float
    tol: float
    ok: bool
    kind: str = "value"
    points: list = field(default_factory=list)
    low: float | None = None
    high: float | None = None

    def expected(self) -> str:
        """The published side of the comparison, in words."""
        if self.kind == "series":
            return f"{len(self.points)} published values (tol {_fmt(self.tol)})"
        if self.kind == "bound":
            if self.high is None:
                return f">= {_fmt(self.low)}"
            if self.low is None:
                return f"<= {_fmt(self.high)}"
            return f"in [{_fmt(self.low)}, {_fmt(self.high)}]"
        return f"{_fmt(self.reference)} (±{_fmt(self.tol)})"

    def describe(self) -> str:
        if self.kind == "series":
            return f"{self.name}: max |diff| {_fmt(self.ours)} over {self.expected()}"
        if self.kind == "bound":
            return f"{self.name}: {_fmt(self.ours)}, expected {self.expected()}"
        return f"{self.name}: {_fmt(self.ours)} vs {self.expected()}"


def _fmt(v) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.2g}" if abs(v) < 1e-3 and v != 0 else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


@dataclass
class Experiment:
    name: str
    title: str
    source: str          # where the reference comes from (course assignment, book chapter)
    fn: Callable
    quick_note: str = ""  # what --quick changes
    needs: tuple = ()     # dataset files it reads, as gradwise.datasets names them
    headline: dict = field(default_factory=dict)  # short label -> check name, for the brief report

    def missing_data(self) -> list[str]:
        """The needed dataset files found in none of the data folders (nothing is verified
        or downloaded here; loading does that)."""
        from ..datasets import search_roots

        return [rel for rel in self.needs if not any((root / rel).is_file() for root in search_roots())]

    def unobtainable_data(self) -> list[str]:
        """The missing files that no public mirror serves either (the course files): a run
        cannot get them by itself. MNIST and Fashion-MNIST download on first use."""
        from ..datasets._store import FILES

        return [rel for rel in self.missing_data() if not (rel in FILES and FILES[rel].mirrors)]

    def run(self, out: Path, quick: bool = False, progress: bool = True) -> Result:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        run = Run(self, out, quick, progress)
        start = time.perf_counter()
        run.notes = self.fn(run) or {}
        run.seconds = time.perf_counter() - start
        result = run.result()
        result.save(out / f"{self.name}.json")
        return result


def experiment(name: str, title: str, source: str, quick_note: str = "", needs=(), headline=None):
    """Register a lab experiment under `name`; `needs` lists the dataset files it reads
    (e.g. "course/data.mat"), so the CLI can tell which runs a machine without them can do.
    `headline` maps short labels to the names of the checks that sum the result up, in the
    order the brief report (`gradwise lab report --brief`, README's table) shows them."""
    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"lab: experiment {name!r} is registered twice")
        REGISTRY[name] = Experiment(name, title, source, fn, quick_note, tuple(needs),
                                    dict(headline or {}))
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
        """Compare one number with its published value; inf matches inf of the same sign."""
        ours, reference = float(ours), float(reference)
        same_inf = math.isinf(ours) and ours == reference
        c = Check(name, ours, reference, float(tol), bool(same_inf or abs(ours - reference) <= tol))
        self.checks.append(c)
        return c

    def check_bound(self, name: str, ours, low=None, high=None) -> Check:
        """Check low <= ours <= high (give one side or both): a claim such as "the loss
        stays above 2.29" or "at least half the activations sit at 0 or 1". NaN fails."""
        if low is None and high is None:
            raise ValueError(f"{self.experiment.name}: {name}: check_bound needs low, high or both")
        if low is not None and high is not None and low > high:
            raise ValueError(f"{self.experiment.name}: {name}: low {low} > high {high}")
        ours = float(ours)
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        ok = not math.isnan(ours) and (low is None or ours >= low) and (high is None or ours <= high)
        if low is not None and high is not None:
            reference, tol = (low + high) / 2, (high - low) / 2
        else:
            reference, tol = (low if high is None else high), 0.0
        c = Check(name, ours, reference, tol, bool(ok), "bound", [], low, high)
        self.checks.append(c)
        return c

    def check_series(self, name: str, ours: dict, reference: dict, tol) -> Check:
        """Compare a published curve {step: value} with ours at the same steps.

        Every published step must be present in `ours`; the check holds when the largest
        difference is within tol (an inf matches an inf of the same sign).
        """
        missing = sorted(set(reference) - set(ours))
        if missing:
            raise KeyError(f"{self.experiment.name}: {name}: no value of ours at steps {missing}")
        points, worst = [], 0.0
        for step in sorted(reference):
            o, r = float(ours[step]), float(reference[step])
            diff = 0.0 if (math.isinf(o) and o == r) else abs(o - r)
            worst = max(worst, diff) if not math.isnan(diff) else math.inf
            points.append([step, o, r])
        c = Check(name, worst, 0.0, float(tol), bool(worst <= tol), "series", points)
        self.checks.append(c)
        return c

    def log(self, message: str) -> None:
        """Print a line without breaking a progress bar that is on screen."""
        from tqdm.auto import tqdm

        tqdm.write(message)

    def record(self, **metrics) -> None:
        """Numbers worth keeping that have no published counterpart (curves, timings)."""
        self.metrics.update(metrics)

    def progress(self, iterable=None, total=None, desc=None):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc or self.experiment.name, leave=False,
                    disable=not self.progress_enabled, dynamic_ncols=True)

    def savefig(self, fig, name: str) -> str:
        path = self.out / f"{self.experiment.name}-{name}.png"
        save_figure(fig, path, dpi=110, bbox_inches="tight")
        if "matplotlib.pyplot" in sys.modules:  # a figure made by pyplot stays open until closed
            sys.modules["matplotlib.pyplot"].close(fig)
        self.plots.append(path.name)
        return str(path)

    def plot_path(self, name: str) -> Path:
        """The path of a PNG that something else writes (e.g. gradwise.datasets.show),
        listed with this run's plots."""
        path = self.out / f"{self.experiment.name}-{name}.png"
        self.plots.append(path.name)
        return path

    def result(self) -> Result:
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
        """Strict JSON (RFC 8259): inf and NaN, which it has no spelling for, are written as
        the strings "Infinity", "-Infinity", "NaN" and read back as floats by load()."""
        text = json.dumps(_plain(asdict(self)), indent=2, allow_nan=False)
        atomic_write(path, lambda f: f.write(text.encode()), parents=True)

    @classmethod
    def load(cls, path: Path) -> Result:
        return cls(**_restore(json.loads(Path(path).read_text())))

    def summary(self) -> str:
        mark = "reproduced" if self.reproduced else "NOT reproduced"
        lines = [f"{self.name}: {mark} in {self.seconds:.1f} s" + (" (quick)" if self.quick else "")]
        lines += [("  ok   " if c["ok"] else "  MISS ") + Check(**c).describe() for c in self.checks]
        return "\n".join(lines)


_NONFINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def _plain(v):
    """Python containers and numbers only, string keys, non-finite floats spelled out."""
    import numpy as np

    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"lab: cannot save a {type(v).__name__} in a result file")


def _restore(v):
    if isinstance(v, dict):
        return {k: _restore(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_restore(x) for x in v]
    if isinstance(v, str) and v in _NONFINITE:
        return _NONFINITE[v]
    return v


