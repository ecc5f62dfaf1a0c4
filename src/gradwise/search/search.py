"""Random search and coarse-to-fine, run as the course's "caviar": many models in parallel.

    result = random_search(objective, {"lr": LogUniform(1e-4, 1), "hidden": IntUniform(8, 64)},
                           n_trials=20, seed=0)                 # a local process pool
    result = random_search(..., executor="ray", ray_address="auto")   # on a Ray cluster
    result = coarse_to_fine(objective, space, rounds=2, n_trials=20)  # zoom in, search again
    print(result.table()); result.plot("search.png"); result.save_best("best.json")

objective(config, seed) -> a score (lower is better unless mode='max'), or a dict with a
'score' key and any other metrics to keep. For the process pool and Ray it must be picklable:
a function defined at the top level of a module (or a functools.partial of one).

Seeds: trial i of round r draws its configuration and its own training seed from
np.random.SeedSequence([seed, r, i]), in the calling process, and the trial runs with
gradwise.manual_seed(its seed). A trial's result therefore depends on (seed, r, i) only, not
on where it ran: serially, in the pool or on Ray, the same seed gives the same table.

A trial whose training diverges (FloatingPointError: the loss became NaN or inf, which a too
large learning rate does) is kept with the worst score (inf for 'min') and its message; any
other error in the objective stops the search and names the trial.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import backend
from ..io import atomic_write
from .space import Distribution, describe, sample, space_to_dict, zoom_space

__all__ = ["Trial", "SearchResult", "random_search", "coarse_to_fine", "trial_plan", "EXECUTORS"]

EXECUTORS = ("process", "ray", "serial")


@dataclass
class Trial:
    """One configuration tried: its index, round (0 for a plain search), the seed it trained
    with, the score and the other metrics the objective returned, its wall time, and the
    error message when it diverged."""

    index: int
    round: int
    config: dict
    seed: int
    score: float
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


def trial_plan(space: dict, n_trials: int, seed: int, round_: int = 0, start: int = 0) -> list:
    """[(index, config, trial seed)] for trials start .. start + n_trials - 1 of a round."""
    plan = []
    for i in range(start, start + n_trials):
        ss = np.random.SeedSequence([int(seed), int(round_), i])
        config = sample(space, np.random.default_rng(ss))
        trial_seed = int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)  # a non-negative int32
        plan.append((i, config, trial_seed))
    return plan


def _run_trial(objective, index: int, round_: int, config: dict, seed: int, mode: str) -> Trial:
    """One trial, wherever it runs: seed gradwise's generator, call the objective, time it."""
    backend.manual_seed(seed)
    t0 = time.perf_counter()
    try:
        # a diverging draw overflows on its way to a NaN loss; the trial reports that itself
        with np.errstate(over="ignore", invalid="ignore"):
            out = objective(dict(config), seed)
    except FloatingPointError as e:  # diverged: a legitimate (bad) outcome of the draw
        worst = math.inf if mode == "min" else -math.inf
        return Trial(index, round_, config, seed, worst, {}, time.perf_counter() - t0, str(e))
    except Exception as e:
        raise RuntimeError(f"search: trial {index} (config {config}) failed: "
                           f"{type(e).__name__}: {e}") from e
    seconds = time.perf_counter() - t0
    if isinstance(out, dict):
        if "score" not in out:
            raise ValueError(f"search: the objective returned a dict without 'score' (keys {sorted(out)})")
        metrics = {k: _plain(v) for k, v in out.items() if k != "score"}
        score = float(out["score"])
    else:
        metrics, score = {}, float(out)
    if math.isnan(score):  # NaN compares false with everything: rank it last, say why
        worst = math.inf if mode == "min" else -math.inf
        return Trial(index, round_, config, seed, worst, metrics, seconds, "the score was NaN")
    return Trial(index, round_, config, seed, score, metrics, seconds)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


# ---- where the trials run ---------------------------------------------------------------------
def _run_serial(objective, plan, round_, mode, workers, ray_address):
    return [_run_trial(objective, i, round_, c, s, mode) for i, c, s in plan]


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _worker_threads(n: int):
    """BLAS threads for the workers started inside the block: the CPUs shared out among the
    workers (as joblib's loky does), so that workers x threads does not oversubscribe them.
    A value the user set is kept."""
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    for k in _THREAD_VARS:
        os.environ.setdefault(k, str(n))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


def _run_process(objective, plan, round_, mode, workers, ray_address):
    import multiprocessing as mp

    cpus = os.cpu_count() or 1
    workers = workers or min(len(plan), cpus)
    # 'spawn': a fresh interpreter per worker, the same on Linux, macOS and Windows, and safe
    # with the threads a parent may hold (a forked child could inherit a held lock)
    with _worker_threads(max(1, cpus // workers)), \
            ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_run_trial, objective, i, round_, c, s, mode) for i, c, s in plan]
        return [f.result() for f in futures]


def _run_ray(objective, plan, round_, mode, workers, ray_address):
    try:
        import ray
    except ImportError:
        raise ImportError("search: executor='ray' needs Ray: pip install 'gradwise[ray]'") from None
    started = False
    if not ray.is_initialized():
        # ray_address None starts a local Ray instance; 'auto' or 'ray://host:10001' joins a cluster
        kw = {"address": ray_address} if ray_address else {"num_cpus": workers or os.cpu_count()}
        ray.init(include_dashboard=False, log_to_driver=False, **kw)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_run_trial)
        refs = [remote.remote(objective, i, round_, c, s, mode) for i, c, s in plan]
        return ray.get(refs)
    finally:
        if started:
            ray.shutdown()


_RUNNERS = {"serial": _run_serial, "process": _run_process, "ray": _run_ray}


# ---- the search -------------------------------------------------------------------------------
def random_search(objective, space: dict, n_trials: int = 20, seed: int = 0, mode: str = "min",
                  executor: str = "process", workers: int | None = None, ray_address=None,
                  round_: int = 0, verbose: int = 0) -> SearchResult:
    """Try n_trials configurations drawn at random from `space` (never a grid).

    mode: 'min' (the default: losses, errors) or 'max' (accuracies).
    executor: 'process' (a local process pool of `workers`, default one per CPU), 'ray' (Ray
        tasks: on the running Ray instance if ray.init was called, else on `ray_address`, else
        on a new local instance), or 'serial' (in this process, one after another).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"random_search: mode must be 'min' or 'max', got {mode!r}")
    if executor not in _RUNNERS:
        raise ValueError(f"random_search: executor must be one of {EXECUTORS}, got {executor!r}")
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"random_search: n_trials must be a positive integer, got {n_trials!r}")
    if workers is not None and workers < 1:
        raise ValueError(f"random_search: workers must be >= 1, got {workers}")
    if not isinstance(space, dict):
        raise TypeError(f"random_search: a space is a dict {{name: distribution or value}}, got "
                        f"{type(space).__name__}")
    if not any(isinstance(v, Distribution) for v in space.values()):
        raise ValueError("random_search: the space has no distribution to search (all values fixed)")
    plan = trial_plan(space, int(n_trials), seed, round_)
    t0 = time.perf_counter()
    trials = _RUNNERS[executor](objective, plan, round_, mode, workers, ray_address)
    result = SearchResult(trials, mode, [space], seed, time.perf_counter() - t0)
    if verbose:
        print(result.table())
    return result


def coarse_to_fine(objective, space: dict, rounds: int = 2, n_trials: int = 20, top: int = 5,
                   margin: float = 0.25, seed: int = 0, mode: str = "min", **kw) -> SearchResult:
    """Random search, then zoom every range around the `top` best trials so far (widened by
    `margin` of the range on each side) and search the smaller space; `rounds` searches in all.
    The result holds every trial (its .round says which search) and every space searched."""
    if rounds < 1 or top < 1:
        raise ValueError(f"coarse_to_fine: rounds and top must be >= 1, got {rounds}, {top}")
    spaces, trials, seconds = [space], [], 0.0
    for r in range(rounds):
        if r:
            best = SearchResult(trials, mode, spaces, seed).top(top)
            spaces.append(zoom_space(spaces[-1], [t.config for t in best], margin))
        part = random_search(objective, spaces[-1], n_trials, seed, mode, round_=r, **kw)
        for t in part.trials:  # one numbering across rounds
            t.index += r * n_trials
        trials += part.trials
        seconds += part.seconds
    return SearchResult(trials, mode, spaces, seed, seconds)


@dataclass
class SearchResult:
    """All trials of a search, in order; .best, .top(k), table(), plot(path), save(path) and
    save_best(path)."""

    trials: list
    mode: str
    spaces: list
    seed: int = 0
    seconds: float = 0.0

    def _key(self, t: Trial):
        return t.score if self.mode == "min" else -t.score

    def top(self, k: int = 5) -> list:
        """The k best trials, best first (ties: the earlier trial)."""
        return sorted(self.trials, key=lambda t: (self._key(t), t.index))[:k]

    @property
    def best(self) -> Trial:
        return self.top(1)[0]

    def table(self, k: int | None = None) -> str:
        """The trials as a text table, best first (all of them, or the best k)."""
        rows = self.top(k or len(self.trials))
        keys = list(dict.fromkeys(n for t in self.trials for n, v in t.config.items()
                                  if any(isinstance(s.get(n), Distribution) for s in self.spaces)))
        extra = list(dict.fromkeys(m for t in self.trials for m in t.metrics if m != "seed"))
        head = ["rank", "trial", "round", *keys, "score", *extra, "seconds"]
        body = []
        for rank, t in enumerate(rows, 1):
            cells = [rank, t.index, t.round, *(t.config.get(n) for n in keys), t.score,
                     *(t.metrics.get(m) for m in extra), t.seconds]
            body.append([_cell(c) for c in cells])
        widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
        diverged = [t for t in self.trials if t.error]
        lines.append(f"{len(self.trials)} trials in {self.seconds:.1f} s ({self.mode} score)"
                     + (f"; {len(diverged)} diverged" if diverged else ""))
        return "\n".join(lines)

    def plot(self, path="search.png", title=None) -> Path:
        """Score against each searched hyperparameter, one panel each (log axes for LogUniform,
        log of 1 - x for OneMinusLogUniform, labels for Choice); later rounds darker, the best
        trial starred. Diverged trials are drawn at the top edge in red."""
        from ..diagnose import _plot

        space = self.spaces[0]
        names = [n for n, v in space.items() if isinstance(v, Distribution)]
        fig, axes = _plot.figure(len(names))
        ok = [t for t in self.trials if math.isfinite(t.score)]
        bad = [t for t in self.trials if not math.isfinite(t.score)]
        scores = [t.score for t in ok]
        lo, hi = (min(scores), max(scores)) if scores else (0.0, 1.0)
        best = self.best
        for ax, name in zip(axes, names):
            dist = space[name]

            def xs(ts, dist=dist, name=name):
                return _axis_values(dist, [t.config[name] for t in ts])

            shades = ["#9ab3d9", "#1f4e9c", "#0b1f44"]
            for r in sorted({t.round for t in ok}):
                group = [t for t in ok if t.round == r]
                ax.scatter(xs(group), [t.score for t in group], s=22, alpha=0.85,
                           color=shades[min(r, 2)], label=f"round {r + 1}" if len(self.spaces) > 1 else None)
            if bad:
                ax.scatter(xs(bad), [hi + 0.05 * (hi - lo + 1e-12)] * len(bad), marker="x",
                           color="#c62828", label="diverged")
            if math.isfinite(best.score):
                ax.scatter(xs([best]), [best.score], marker="*", s=160, color="#f2a900",
                           edgecolors="k", linewidths=0.5, zorder=3, label="best")
            _set_axis(ax, dist, name)
            ax.set_ylabel(f"score ({self.mode})")
        axes[0].legend(fontsize=7)
        if title:
            fig.suptitle(title)
        return _plot.save(fig, path)

    def to_dict(self) -> dict:
        return {"mode": self.mode, "seed": self.seed, "seconds": self.seconds,
                "spaces": [space_to_dict(s) for s in self.spaces],
                "best": self.best.index,
                "trials": [_json_trial(t) for t in self.trials]}

    def save(self, path) -> Path:
        """Every trial, the spaces and the best trial's index as JSON (atomic)."""
        return _write_json(path, self.to_dict())

    def save_best(self, path, extra: dict | None = None) -> Path:
        """The best configuration as JSON: {"config": {...}, "search": {score, trial, seed,
        metrics}}; the config includes the trial's seed, so retraining it repeats the trial.
        `gradwise train` accepts the file."""
        b = self.best
        config = {**b.config, **({"seed": b.seed} if "seed" not in b.config else {})}
        return _write_json(path, {"config": {**config, **(extra or {})},
                                  "search": {"score": _json_number(b.score), "mode": self.mode,
                                             "trial": b.index, "round": b.round, "seed": b.seed,
                                             "metrics": {k: _json_number(v) for k, v in b.metrics.items()}}})

    def describe_spaces(self) -> str:
        return "\n\n".join(f"round {i + 1}:\n{describe(s)}" for i, s in enumerate(self.spaces))


def _axis_values(dist, values):
    from .space import Choice, OneMinusLogUniform

    if isinstance(dist, Choice):
        return [dist.options.index(v) if v in dist.options else -1 for v in values]
    if isinstance(dist, OneMinusLogUniform):
        return [1.0 - float(v) for v in values]  # plotted as 1 - beta on a log axis
    return [float(v) for v in values]


def _set_axis(ax, dist, name):
    from .space import Choice, LogUniform, OneMinusLogUniform

    if isinstance(dist, LogUniform):
        ax.set_xscale("log")
    elif isinstance(dist, OneMinusLogUniform):
        ax.set_xscale("log")  # 1 - beta: 0.1, 0.01, 0.001 (beta 0.9, 0.99, 0.999) evenly apart
        name = f"1 - {name}"
    elif isinstance(dist, Choice):
        ax.set_xticks(range(len(dist.options)), [str(o) for o in dist.options])
    ax.set_xlabel(name)


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if v is None:
        return "-"
    return str(v)


def _json_number(v):
    """Strict JSON has no inf/NaN: they are written as the strings 'inf', '-inf', 'nan'."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _json_trial(t: Trial) -> dict:
    d = asdict(t)
    d["score"] = _json_number(t.score)
    d["metrics"] = {k: _json_number(v) for k, v in t.metrics.items()}
    return d


def _write_json(path, obj) -> Path:
    text = json.dumps(obj, indent=2, default=_json_default, allow_nan=False) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()), parents=True)


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"cannot write {type(v).__name__} to JSON")
