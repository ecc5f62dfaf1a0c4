"""Bias and variance: which problem a model has, and the one knob to turn next.

    d = diagnose(train_error=0.01, dev_error=0.11)
    d.verdict               # 'high variance'
    d.recommendations[0]    # 'Get more training data ...'
    print(d)                # the errors, the gaps, the verdict and the recipe, in words

The gaps, as the course names them (Structuring Machine Learning Projects, week 1-2), with
human-level error as the proxy for Bayes error:

    avoidable bias   = train error - human error
    variance         = train-dev error - train error   (dev error - train error without a
                                                        train-dev set)
    data mismatch    = dev error - train-dev error     (only with a train-dev set: data from
                                                        the training distribution held out)
    dev overfitting  = test error - dev error          (the dev set was tuned on too much, or
                                                        dev and test differ)

A gap counts as a problem when it exceeds `tolerance` (1 percentage point by default: the
course's 0.5%/1% case is fine, its 1%/11% case has high variance) and, when the number of
examples behind the errors is known (`sizes`; diagnose_model always knows it), when it also
exceeds its sampling error: an error rate e measured on n examples is a proportion with
standard error sqrt(e (1 - e) / n), so a gap e_a - e_b between two such errors has standard
error sqrt(e_a (1 - e_a) / n_a + e_b (1 - e_b) / n_b) (a human-level error counts as exact),
and a gap within SAMPLING_Z = 2 of those (about 95% of the gaps two samples of one
distribution show) is no evidence of a problem. 500 test examples against 1,000 dev
examples at 18% error differ by up to ~4 points by chance alone: such a gap is not a
dev/test mismatch, while 1% against 11% on 1,000 dev examples is high variance either way. The dominant problem is
the largest problem gap; a tie goes to the one the basic recipe fixes first (bias before
variance before mismatch), because a model must fit its training set before it can
generalize. Recommendations are the course's basic recipe for that problem, in the order to
try them, one knob at a time (orthogonalization: each knob fixes one thing without moving the
others; early stopping is left out because it moves bias and variance together).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

__all__ = ["Diagnosis", "diagnose", "diagnose_model", "error_rate", "RECIPE"]

# The basic recipe, one knob per line, in the order the course suggests trying them.
RECIPE = {
    "bias": [
        "Train a bigger network (more hidden units or more layers): the cheapest way to fit the "
        "training set better, as long as it is regularized.",
        "Train longer, or with a better optimizer (momentum, RMSprop, Adam) and a tuned learning "
        "rate.",
        "Try another architecture (a different network type or hyperparameters); if the model "
        "is regularized, also try less regularization (smaller lambda, higher keep_prob).",
    ],
    "variance": [
        "Get more training data (or augment the data you have: flips, crops, distortions).",
        "Add regularization: L2 (weight decay), dropout, data augmentation.",
        "Try another architecture (one better suited to the data may generalize better).",
    ],
    "data mismatch": [
        "Carry out manual error analysis on the dev set to understand how it differs from the "
        "training data.",
        "Make the training data more like the dev/test data (artificial data synthesis), or "
        "collect more training data like the dev/test data.",
    ],
    "dev overfitting": [
        "Get a bigger dev set: the dev error was tuned on until it no longer predicts the test "
        "error.",
        "Check that dev and test come from the same distribution (shuffle the data before you "
        "split it into dev and test).",
    ],
    "none": [
        "The model is close to human-level performance on train and dev: further gains come from "
        "error analysis (look at the mistakes and count their causes).",
        "If human-level error overestimates Bayes error (a team of experts does better than one "
        "person), a better estimate may reveal remaining avoidable bias.",
    ],
}

_PROBLEM = {"bias": "high bias", "variance": "high variance", "data mismatch": "data mismatch",
            "dev overfitting": "dev/test mismatch"}
_ORDER = ("bias", "variance", "data mismatch", "dev overfitting")  # the recipe's order
SAMPLING_Z = 2.0   # a gap within this many standard errors of 0 is sampling noise


@dataclass
class Diagnosis:
    """The errors given, the gaps between them, and what follows from them.

    Fields: train_error, dev_error, human_error (as used: 0.0 when none was given, with
    human_given False), train_dev_error, test_error (None when not given); the gaps
    avoidable_bias, variance, data_mismatch and dev_overfitting (None when their errors are
    missing); margins (for each gap whose errors' sizes were given, SAMPLING_Z standard
    errors: the gap a problem has to exceed as well as the tolerance); the booleans
    high_bias, high_variance, data_mismatch_problem and dev_test_mismatch; problems (the gaps
    above tolerance, largest first), dominant (one of 'bias', 'variance', 'data mismatch',
    'dev overfitting', 'none'), verdict (in words: 'high
    bias', 'high variance', 'high bias and high variance', ..., 'neither: low bias and low
    variance') and recommendations (the knobs to try for the dominant problem, in order).
    str(d) is the readable report.
    """

    train_error: float
    dev_error: float
    human_error: float
    human_given: bool
    train_dev_error: float | None
    test_error: float | None
    tolerance: float
    avoidable_bias: float
    variance: float
    data_mismatch: float | None
    dev_overfitting: float | None
    problems: list = field(default_factory=list)
    margins: dict = field(default_factory=dict)
    dominant: str = "none"
    verdict: str = ""
    recommendations: list = field(default_factory=list)

    @property
    def high_bias(self) -> bool:
        return "bias" in self.problems

    @property
    def high_variance(self) -> bool:
        return "variance" in self.problems

    @property
    def data_mismatch_problem(self) -> bool:
        return "data mismatch" in self.problems

    @property
    def dev_test_mismatch(self) -> bool:
        return "dev overfitting" in self.problems

    def gaps(self) -> dict:
        """{'bias': ..., 'variance': ..., 'data mismatch': ..., 'dev overfitting': ...} (given ones)."""
        g = {"bias": self.avoidable_bias, "variance": self.variance,
             "data mismatch": self.data_mismatch, "dev overfitting": self.dev_overfitting}
        return {k: v for k, v in g.items() if v is not None}

    def to_dict(self) -> dict:
        return {"train_error": self.train_error, "dev_error": self.dev_error,
                "human_error": self.human_error, "train_dev_error": self.train_dev_error,
                "test_error": self.test_error, "gaps": self.gaps(), "margins": dict(self.margins),
                "problems": list(self.problems),
                "dominant": self.dominant, "verdict": self.verdict,
                "recommendations": list(self.recommendations)}

    def __str__(self) -> str:
        rows = [("human-level error" + ("" if self.human_given else " (not given: 0 assumed)"),
                 self.human_error), ("training error", self.train_error)]
        if self.train_dev_error is not None:
            rows.append(("train-dev error", self.train_dev_error))
        rows.append(("dev error", self.dev_error))
        if self.test_error is not None:
            rows.append(("test error", self.test_error))
        width = max(len(r[0]) for r in rows) + 2
        lines = ["Bias/variance diagnosis", *(f"  {n:<{width}}{_pct(v)}" for n, v in rows), ""]
        names = {"bias": "avoidable bias", "variance": "variance", "data mismatch": "data mismatch",
                 "dev overfitting": "dev -> test gap"}
        for k, v in self.gaps().items():
            mark = "  <- problem" if k in self.problems else ""
            noise = f"  (sampling error ±{_pct(self.margins[k])})" if k in self.margins else ""
            lines.append(f"  {names[k]:<{width}}{_pct(v, signed=True)}{noise}{mark}")
        lines += ["", f"Verdict: {self.verdict}."]
        if self.dev_test_mismatch:
            lines.append("Dev and test look like different distributions, or the dev set has been "
                         "overfit: the dev error no longer predicts the test error.")
        head = ("Next, one knob at a time (re-diagnose after each):" if self.dominant != "none"
                else "Next:")
        lines += [head, *(f"  {i}. {r}" for i, r in enumerate(self.recommendations, 1))]
        return "\n".join(lines)


def _pct(v: float, signed: bool = False) -> str:
    return f"{v * 100:+.2f}%" if signed else f"{v * 100:.2f}%"


def _check(name: str, v) -> float | None:
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"diagnose: {name} must be a number, got {type(v).__name__}") from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        hint = f" (errors are fractions: {v:g}% is {v / 100:g})" if 1.0 < v <= 100.0 else ""
        raise ValueError(f"diagnose: {name} must be an error rate in [0, 1], got {v!r}{hint}")
    return v


def diagnose(train_error, dev_error, human_error=None, test_error=None, *,
             train_dev_error=None, tolerance: float = 0.01, sizes: dict | None = None) -> Diagnosis:
    """Diagnose bias and variance from error rates (fractions in [0, 1]).

    human_error: human-level error, the proxy for Bayes error (None: 0 is assumed, as for
        tasks such as recognizing cats, where people make almost no mistakes).
    train_dev_error: error on held-out data from the training distribution; with it the gap
        between train and dev splits into variance and data mismatch.
    test_error: with it, a test error far from the dev error is reported as a dev/test
        mismatch (the dev set overfit by tuning, or dev and test from different distributions).
    tolerance: the smallest gap (a fraction: 0.01 is one percentage point) that counts as a
        problem.
    sizes: the number of examples each error was measured on, by name: {"train": m,
        "dev": m, "test": m, "train_dev": m} (any of them). A gap between errors of known
        sizes counts as a problem only when it also exceeds SAMPLING_Z of its standard
        errors (see the module's docstring); without sizes, the tolerance alone decides.

    The course's four cases, human error ~0: 1%/11% is high variance, 15%/16% high bias,
    15%/30% high bias and high variance, 0.5%/1% neither.
    """
    train_error, dev_error = _check("train_error", train_error), _check("dev_error", dev_error)
    if train_error is None or dev_error is None:
        raise ValueError("diagnose: train_error and dev_error are required")
    human = _check("human_error", human_error)
    train_dev = _check("train_dev_error", train_dev_error)
    test = _check("test_error", test_error)
    if not 0.0 <= float(tolerance) < 1.0:
        raise ValueError(f"diagnose: tolerance must be in [0, 1), got {tolerance}")
    tolerance = float(tolerance)
    human_used = 0.0 if human is None else human

    bias = train_error - human_used
    if train_dev is None:
        variance, mismatch = dev_error - train_error, None
    else:
        variance, mismatch = train_dev - train_error, dev_error - train_dev
    dev_overfit = None if test is None else test - dev_error

    gaps = {"bias": bias, "variance": variance, "data mismatch": mismatch,
            "dev overfitting": dev_overfit}
    errors = {"train": train_error, "train_dev": train_dev, "dev": dev_error, "test": test}
    ends = {"bias": ("train",), "variance": ("train" if train_dev is None else "train_dev", "dev"),
            "data mismatch": ("train_dev", "dev"), "dev overfitting": ("dev", "test")}
    margins = {k: SAMPLING_Z * se for k in gaps if gaps[k] is not None
               and (se := _standard_error(ends[k], errors, _check_sizes(sizes))) is not None}
    # a gap is a problem when it exceeds the tolerance and its sampling error; the dev -> test
    # gap counts either way (a test error far below the dev error is a sign of different
    # distributions too); the 1e-9 keeps 16% - 15% from counting as more than one point
    size = {k: (abs(v) if k == "dev overfitting" else v) for k, v in gaps.items() if v is not None}
    problems = [k for k in _ORDER if k in size and size[k] > max(tolerance, margins.get(k, 0.0)) + 1e-9]
    problems.sort(key=lambda k: (-round(size[k], 9), _ORDER.index(k)))
    dominant = problems[0] if problems else "none"
    recommendations = list(RECIPE[dominant])
    if dominant == "none" and size:
        larger = max(("bias", "variance"), key=lambda k: size.get(k, -1.0))
        within = " and its sampling error" if margins else ""
        recommendations.insert(0, f"No gap exceeds {_pct(tolerance)}{within}; the larger one is "
                                  f"{'avoidable bias' if larger == 'bias' else 'variance'} "
                                  f"({_pct(size[larger])}): if you need a better model, start "
                                  f"there: {RECIPE[larger][0]}")
    return Diagnosis(train_error, dev_error, human_used, human is not None, train_dev, test,
                     tolerance, bias, variance, mismatch, dev_overfit, problems, margins, dominant,
                     _verdict(problems), recommendations)


def _check_sizes(sizes) -> dict:
    if sizes is None:
        return {}
    if not isinstance(sizes, dict):
        raise TypeError(f"diagnose: sizes must be a dict such as {{'dev': 1000}}, got {type(sizes).__name__}")
    unknown = set(sizes) - {"train", "train_dev", "dev", "test"}
    if unknown:
        raise ValueError(f"diagnose: sizes has unknown key(s) {sorted(unknown)}; "
                         f"use 'train', 'train_dev', 'dev', 'test'")
    for name, n in sizes.items():
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"diagnose: sizes[{name!r}] must be a positive number of examples, got {n!r}")
    return sizes


def _standard_error(ends, errors, sizes) -> float | None:
    """The standard error of the gap between the error rates `ends` (names in `errors`), each
    a proportion measured on sizes[name] examples; None when no size is known. (Avoidable
    bias has one end: the human-level error counts as exact.)"""
    terms = [errors[name] * (1 - errors[name]) / sizes[name] for name in ends if name in sizes]
    return math.sqrt(sum(terms)) if terms else None


def _verdict(problems: list) -> str:
    if not problems:
        return "neither: low bias and low variance"
    if "bias" in problems and "variance" in problems:
        first = "high bias and high variance"
        rest = [p for p in problems if p not in ("bias", "variance")]
    else:
        first, rest = _PROBLEM[problems[0]], problems[1:]
    return ", and ".join([first, *(_PROBLEM[p] for p in rest)])


def error_rate(model, data, batch_size: int = 256) -> float:
    """1 - accuracy of a classifier on (X, y): outputs (m, C) by argmax, (m,)/(m, 1) by p > 0.5
    (gradwise.train.metrics.to_labels; for binary logits pass a model that ends in a sigmoid
    or use error= with your own threshold)."""
    from ..train import metrics, predict

    X, y = _pair(data, "error_rate")
    return 1.0 - metrics.accuracy(y, predict(model, X, batch_size=batch_size))


def _pair(data, name):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name}: expected a split as a pair (X, y), got {type(data).__name__}")
    X, y = data
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} examples but y has {len(y)}")
    if len(X) == 0:
        raise ValueError(f"{name}: the split is empty")
    return X, y


def diagnose_model(model, train, dev, test=None, *, train_dev=None, human_error=None,
                   error=None, tolerance: float = 0.01, batch_size: int = 256) -> Diagnosis:
    """diagnose() for a trained model: each split (X, y) is scored by `error(model, (X, y))`
    (default: error_rate, 1 - accuracy) and the errors diagnosed, with the splits' sizes (a
    gap must exceed its sampling error as well as the tolerance to count).

        d = diagnose_model(model, (X_train, y_train), (X_dev, y_dev), (X_test, y_test),
                           human_error=0.005)
    """
    score = error or (lambda m, split: error_rate(m, split, batch_size))
    errors, sizes = {}, {}
    for name, split in (("train", train), ("dev", dev), ("train_dev", train_dev), ("test", test)):
        if split is not None:
            _pair(split, f"diagnose_model: {name}")
            errors[name] = float(score(model, split))
            sizes[name] = len(split[0])
    return diagnose(errors["train"], errors["dev"], human_error, errors.get("test"),
                    train_dev_error=errors.get("train_dev"), tolerance=tolerance, sizes=sizes)
