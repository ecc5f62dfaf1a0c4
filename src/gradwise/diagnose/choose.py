"""Single-number evaluation: one metric to rank runs by, the others as constraints.

    f1_score(0.95, 0.90)                                   # 0.924..., classifier A of the course
    choose({"A": {"accuracy": 0.90, "runtime_ms": 80},
            "B": {"accuracy": 0.92, "runtime_ms": 95},
            "C": {"accuracy": 0.95, "runtime_ms": 1500}},
           optimizing="accuracy", satisficing={"runtime_ms": "<= 100"}).best     # 'B'

The course's advice (Structuring Machine Learning Projects, week 1): pick one optimizing
metric (the best you can get) and make every other requirement a satisficing metric (good
enough is enough: a threshold). Precision and recall combine into one number, F1, their
harmonic mean.
"""
from __future__ import annotations

import math
import operator
import re
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["f1_score", "scores", "inference_ms", "choose", "Choice"]

_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
        "==": operator.eq, "!=": operator.ne}
_CONSTRAINT = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE]+|inf|-inf)\s*$")


def f1_score(precision: float, recall: float) -> float:
    """2 P R / (P + R): the harmonic mean, low whenever either is low (0 when both are)."""
    for name, v in (("precision", precision), ("recall", recall)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"f1_score: {name} must be in [0, 1], got {v}")
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def scores(y_true, y_pred, average: str = "binary", num_classes: int | None = None,
           threshold: float = 0.5) -> dict:
    """accuracy, precision, recall, f1 and error (1 - accuracy) of predictions (labels, scores
    (m, C) or probabilities), from one confusion matrix (see gradwise.train.metrics)."""
    from ..train import metrics

    t, p = metrics.to_labels(y_true, threshold), metrics.to_labels(y_pred, threshold)
    if num_classes is None:
        num_classes = max(2, int(max(t.max(initial=0), p.max(initial=0))) + 1)
    cm = metrics.confusion_matrix(t, p, num_classes)
    s = metrics.from_confusion(cm, average)
    s["error"] = 1.0 - s["accuracy"]
    return s


def inference_ms(model, X, batch_size: int = 1, repeats: int = 5) -> float:
    """Milliseconds per example of predict(model, X) in batches of batch_size (1: the latency
    of one example), the median of `repeats` timed passes after a warm-up pass."""
    from ..train import predict

    if repeats < 1 or batch_size < 1:
        raise ValueError(f"inference_ms: repeats and batch_size must be >= 1, got {repeats}, {batch_size}")
    n = len(X)
    if n == 0:
        raise ValueError("inference_ms: no examples")
    predict(model, X[:batch_size], batch_size=batch_size)  # warm-up: first-call costs apart
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(model, X, batch_size=batch_size)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / n * 1000.0


def _constraint(metric: str, spec):
    """(description, test) from '<= 100', ('<=', 100) or a function value -> bool."""
    if callable(spec):
        return f"{metric} satisfies {getattr(spec, '__name__', 'the test')}", spec
    if isinstance(spec, str):
        match = _CONSTRAINT.match(spec)
        if not match:
            raise ValueError(f"choose: cannot read the constraint {spec!r} on '{metric}': write it "
                             f"as '<= 100', '>= 0.9', '< 5', ... or pass a function value -> bool")
        op, bound = match.group(1), float(match.group(2))
    elif isinstance(spec, (tuple, list)) and len(spec) == 2 and spec[0] in _OPS:
        op, bound = spec[0], float(spec[1])
    else:
        raise TypeError(f"choose: the constraint on '{metric}' must be a string such as '<= 100', "
                        f"a pair ('<=', 100) or a function, got {spec!r}")
    fn = _OPS[op]
    return f"{metric} {op} {bound:g}", lambda v: fn(v, bound)


@dataclass
class Choice:
    """The outcome of choose(): best (the name chosen, None when no run satisfies every
    constraint), the optimizing metric and its mode, and rows: one dict per run with 'name',
    the metrics, 'feasible' and 'violates' (the constraints it fails), best first."""

    best: str | None
    optimizing: str
    mode: str
    constraints: list
    rows: list = field(default_factory=list)

    @property
    def best_metrics(self) -> dict | None:
        return next((r for r in self.rows if r["name"] == self.best), None)

    def __str__(self) -> str:
        cons = ", ".join(self.constraints) or "none"
        lines = [f"Optimizing: {self.optimizing} ({self.mode}); satisficing: {cons}"]
        for r in self.rows:
            mark = "*" if r["name"] == self.best else " "
            why = "" if r["feasible"] else "  fails " + ", ".join(r["violates"])
            lines.append(f" {mark} {r['name']}: {self.optimizing} = {r[self.optimizing]:.4g}{why}")
        lines.append(f"Chosen: {self.best}" if self.best is not None
                     else "No run satisfies every constraint.")
        return "\n".join(lines)


def choose(runs, optimizing: str, satisficing=None, mode: str = "auto") -> Choice:
    """The run that is best on `optimizing` among those meeting every satisficing constraint.

    runs: {name: {metric: value}} or a list of dicts (named by their 'name' key, else by
        position). satisficing: {metric: constraint}, a constraint being '<= 100', ('<=', 100)
        or a function value -> bool. mode: 'max', 'min' or 'auto' (min for names with
        'error', 'loss', 'time', 'ms', 'latency' or 'cost', max otherwise).
    Ties on the optimizing metric keep the earlier run.
    """
    if isinstance(runs, dict):
        items = [(str(k), dict(v)) for k, v in runs.items()]
    else:
        items = [(str(r.get("name", i)), dict(r)) for i, r in enumerate(runs)]
    if not items:
        raise ValueError("choose: no runs to choose from")
    if mode == "auto":
        low = any(s in optimizing.lower() for s in ("error", "loss", "time", "ms", "latency", "cost"))
        mode = "min" if low else "max"
    if mode not in ("min", "max"):
        raise ValueError(f"choose: mode must be 'min', 'max' or 'auto', got {mode!r}")
    tests = [(m, *_constraint(m, spec)) for m, spec in (satisficing or {}).items()]
    rows = []
    for name, metrics in items:
        if optimizing not in metrics:
            raise KeyError(f"choose: run '{name}' has no '{optimizing}' (it has {sorted(metrics)})")
        violates = []
        for metric, text, test in tests:
            if metric not in metrics:
                raise KeyError(f"choose: run '{name}' has no '{metric}' for the constraint '{text}'")
            if not test(metrics[metric]):
                violates.append(text)
        rows.append({"name": name, **metrics, "feasible": not violates, "violates": violates})
    sign = -1.0 if mode == "max" else 1.0

    def key(iv):
        i, r = iv
        v = float(r[optimizing])
        return (not r["feasible"], math.inf if math.isnan(v) else sign * v, i)

    rows = [r for _, r in sorted(enumerate(rows), key=key)]
    best = rows[0]["name"] if rows[0]["feasible"] else None
    return Choice(best, optimizing, mode, [t for _, t, _ in tests], rows)
