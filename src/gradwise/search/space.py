"""Search spaces: where each hyperparameter is drawn from, on the scale that suits it.

    space = {"lr": LogUniform(1e-4, 1),            # 10^U(-4, 0): as many draws per decade
             "beta": OneMinusLogUniform(0.9, 0.999),  # 1 - 10^U(-3, -1): fine near 1
             "hidden": IntUniform(16, 128),
             "activation": Choice(["relu", "tanh"]),
             "epochs": 30}                          # a plain value stays fixed

The course (Improving Deep Neural Networks, week 3): sample at random, not on a grid (with
one important and one unimportant hyperparameter, a grid of 25 tries only 5 values of the
important one; 25 random points try 25), and on the appropriate scale: a learning rate
between 0.0001 and 1 uniformly would put 90% of the draws between 0.1 and 1, so draw the
exponent, r ~ U(-4, 0), lr = 10^r. For beta in [0.9, 0.999] (averaging over 10 to 1000 steps)
draw 1 - beta = 10^r with r ~ U(-3, -1): the result is as sensitive near 0.999 as it should be.

Each distribution also zooms (coarse to fine): given the values of the best trials, it returns
a narrower distribution of the same kind around them, inside its own bounds.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Distribution", "Uniform", "IntUniform", "LogUniform", "OneMinusLogUniform", "Choice",
           "sample", "zoom_space", "space_to_dict", "space_from_dict", "describe"]


class Distribution:
    """A hyperparameter's distribution: sample(rng) -> value, zoom(values) -> narrower."""

    kind = ""

    def sample(self, rng: np.random.Generator):
        raise NotImplementedError

    def zoom(self, values, margin: float = 0.25) -> Distribution:
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    log_axis = False  # plotted on a log axis (of the value, or of 1 - value)

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        args = next(iter(self.to_dict().values()))
        inner = repr(args) if isinstance(self, Choice) else ", ".join(f"{a:g}" for a in args)
        return f"{type(self).__name__}({inner})"


class _Interval(Distribution):
    """A range [low, high] sampled uniformly on some scale t = forward(x)."""

    def __init__(self, low, high):
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise ValueError(f"{type(self).__name__}: need finite low <= high, got ({low}, {high})")
        self._validate(low, high)
        self.low, self.high = low, high

    def _validate(self, low, high):
        pass

    # the scale the draw is uniform on
    def forward(self, x):
        return x

    def inverse(self, t):
        return t

    def sample(self, rng):
        a, b = sorted((self.forward(self.low), self.forward(self.high)))
        return float(self.inverse(rng.uniform(a, b)))

    def zoom(self, values, margin: float = 0.25):
        """The range of `values` on this scale, widened by `margin` of the current range on
        each side (so the best point is not on the edge), kept inside [low, high]."""
        values = [float(v) for v in values]
        if not values:
            raise ValueError(f"{type(self).__name__}.zoom: no values to zoom around")
        lo_t, hi_t = sorted((self.forward(self.low), self.forward(self.high)))
        ts = [self.forward(v) for v in values]
        pad = margin * (hi_t - lo_t)
        a, b = max(lo_t, min(ts) - pad), min(hi_t, max(ts) + pad)
        x1, x2 = sorted((float(self.inverse(a)), float(self.inverse(b))))
        return self._new(max(self.low, x1), min(self.high, x2))

    def _new(self, low, high):
        return type(self)(low, high)

    def to_dict(self):
        return {self.kind: [self.low, self.high]}


class Uniform(_Interval):
    """x ~ U(low, high): for hyperparameters whose effect is even across the range (keep_prob
    in a narrow range, a mixing weight)."""

    kind = "uniform"


class LogUniform(_Interval):
    """x = 10^r, r ~ U(log10 low, log10 high): learning rates, lambda, epsilon."""

    kind = "loguniform"
    log_axis = True

    def _validate(self, low, high):
        if low <= 0:
            raise ValueError(f"LogUniform: bounds must be positive, got ({low}, {high})")

    def forward(self, x):
        return math.log10(x)

    def inverse(self, t):
        return 10.0 ** t


class OneMinusLogUniform(_Interval):
    """x = 1 - 10^r, r ~ U(log10(1 - high), log10(1 - low)): momentum and Adam's betas, where
    0.999 vs 0.9995 matters as much as 0.9 vs 0.95."""

    kind = "one_minus_loguniform"
    log_axis = True

    def _validate(self, low, high):
        if high >= 1:
            raise ValueError(f"OneMinusLogUniform: bounds must be below 1, got ({low}, {high})")

    def forward(self, x):
        return math.log10(1.0 - x)

    def inverse(self, t):
        return 1.0 - 10.0 ** t


class IntUniform(_Interval):
    """An integer uniform on [low, high], both included: hidden units, layers, batch sizes."""

    kind = "randint"

    def __init__(self, low, high):
        if int(low) != low or int(high) != high:
            raise ValueError(f"IntUniform: bounds must be integers, got ({low}, {high})")
        super().__init__(int(low), int(high))
        self.low, self.high = int(low), int(high)

    def sample(self, rng):
        return int(rng.integers(self.low, self.high + 1))

    def _new(self, low, high):
        return IntUniform(max(self.low, math.floor(low)), min(self.high, math.ceil(high)))


class Choice(Distribution):
    """One of a list of options, each equally likely (activation, optimizer, architecture)."""

    kind = "choice"

    def __init__(self, options):
        options = list(options)
        if not options:
            raise ValueError("Choice: needs at least one option")
        self.options = options

    def sample(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def zoom(self, values, margin: float = 0.25):
        """The options that the best trials used (in the original order)."""
        kept = [o for o in self.options if o in list(values)]
        return Choice(kept or self.options)

    def to_dict(self):
        return {"choice": list(self.options)}


_KINDS = {c.kind: c for c in (Uniform, LogUniform, OneMinusLogUniform, IntUniform, Choice)}


def _check_space(space) -> dict:
    if not isinstance(space, dict) or not space:
        raise TypeError(f"search: a space is a non-empty dict {{name: distribution or value}}, "
                        f"got {type(space).__name__}")
    return space


def sample(space: dict, rng: np.random.Generator) -> dict:
    """One configuration: each distribution drawn (in the space's key order), values as given."""
    return {k: (v.sample(rng) if isinstance(v, Distribution) else v) for k, v in _check_space(space).items()}


def zoom_space(space: dict, best_configs, margin: float = 0.25) -> dict:
    """Every distribution narrowed around the values of `best_configs` (coarse to fine)."""
    best_configs = list(best_configs)
    if not best_configs:
        raise ValueError("zoom_space: no configurations to zoom around")
    return {k: (v.zoom([c[k] for c in best_configs], margin) if isinstance(v, Distribution) else v)
            for k, v in _check_space(space).items()}


def space_to_dict(space: dict) -> dict:
    """A JSON-ready form: {'lr': {'loguniform': [0.0001, 1.0]}, 'epochs': 30, ...}."""
    return {k: (v.to_dict() if isinstance(v, Distribution) else v) for k, v in space.items()}


def space_from_dict(d: dict) -> dict:
    """The inverse of space_to_dict: one-key dicts {kind: args} become distributions (kinds:
    uniform, loguniform, one_minus_loguniform, randint [low, high]; choice [options]), other
    values stay fixed."""
    if not isinstance(d, dict):
        raise TypeError(f"space_from_dict: expected a dict, got {type(d).__name__}")
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _KINDS:
            kind, args = next(iter(v.items()))
            if kind == "choice":
                out[k] = Choice(args)
            else:
                if not (isinstance(args, (list, tuple)) and len(args) == 2):
                    raise ValueError(f"space: '{k}': {kind} takes [low, high], got {args!r}")
                out[k] = _KINDS[kind](*args)
        elif isinstance(v, dict) and len(v) == 1:
            raise ValueError(f"space: '{k}': unknown distribution {next(iter(v))!r}; use one of "
                             f"{sorted(_KINDS)}")
        else:
            out[k] = v
    return out


def describe(space: dict) -> str:
    """One line per hyperparameter, e.g. 'lr  10^U(-4, 0)'."""
    lines = []
    for k, v in space.items():
        if isinstance(v, LogUniform):
            text = f"10^U({math.log10(v.low):.3g}, {math.log10(v.high):.3g})"
        elif isinstance(v, OneMinusLogUniform):
            text = f"1 - 10^U({math.log10(1 - v.high):.3g}, {math.log10(1 - v.low):.3g})"
        elif isinstance(v, IntUniform):
            text = f"integer U[{v.low}, {v.high}]"
        elif isinstance(v, Uniform):
            text = f"U({v.low:.4g}, {v.high:.4g})"
        elif isinstance(v, Choice):
            text = "one of " + ", ".join(map(str, v.options))
        else:
            text = f"fixed {v!r}"
        lines.append(f"{k}  {text}")
    return "\n".join(lines)
