"""evaluate and predict, and the running loss and metrics of an epoch that fit keeps too.

    evaluate(model, F.cross_entropy, (X_test, y_test))     # {'loss': ..., 'accuracy': ...}
    predict(model, X_test)                                  # the outputs, as one ndarray

Both run in eval mode without recording a graph (`with model.evaluating(), no_grad():`), so
each module gets its own mode back after them. Per batch only what must be kept is kept: the
loss value (a Python float) and, for the classification metrics, the predicted labels; the
confusion matrix, and from it accuracy/precision/recall/f1, is computed once per epoch.
"""
from __future__ import annotations

import functools

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, to_numpy
from . import metrics as M
from .batches import as_tensor, batch_size_for, batches, cast, is_arrays, param_dtype

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1")
_ALIASES = {"acc": "accuracy", "f1_score": "f1"}


# ---- which metrics, read how ------------------------------------------------------------------
def resolve_metrics(metrics) -> tuple[tuple, dict]:
    """Split metrics into the classification names (from the epoch's confusion matrix) and
    callables fn(y_true, y_pred) -> float (averaged over batches, weighted by batch size)."""
    if metrics is None:
        metrics = ()
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    items = metrics.items() if isinstance(metrics, dict) else [(None, m) for m in metrics]
    names, fns = [], {}
    for name, m in items:
        if isinstance(m, str):
            key = _ALIASES.get(m, m)
            if key not in CLASSIFICATION_METRICS:
                raise ValueError(f"unknown metric {m!r}: use one of {CLASSIFICATION_METRICS} "
                                 f"or a function fn(y_true, y_pred) -> float")
            names.append(key)
        elif callable(m):
            fname = (name or getattr(m, "__name__", None)  # functools.partial: its function's name
                     or getattr(getattr(m, "func", None), "__name__", None))
            fns[fname or f"metric_{len(fns)}"] = m
        else:
            raise TypeError(f"a metric must be a name or a function, got {type(m).__name__}")
    return tuple(names), fns


def _takes_logits(loss_fn) -> bool | None:
    """What the known gradwise losses read, from the function itself (never from values):
    cross_entropy and binary_cross_entropy_with_logits take logits, binary_cross_entropy
    takes probabilities; None for any other loss."""
    from .. import functional as F

    while isinstance(loss_fn, functools.partial):
        loss_fn = loss_fn.func
    if loss_fn is F.cross_entropy or loss_fn is F.binary_cross_entropy_with_logits:
        return True
    if loss_fn is F.binary_cross_entropy:
        return False
    return None


class Scores:
    """How the classification metrics read the model's outputs: (m, C) scores by argmax,
    one score per example ((m,) or (m, 1)) by a threshold, 0 for logits and 0.5 for
    probabilities. from_logits=None takes it from the loss (see _takes_logits); with any
    other loss, one score per example is an error that asks for from_logits."""

    def __init__(self, names: tuple, loss_fn, from_logits, who: str):
        if from_logits is not None and not isinstance(from_logits, (bool, np.bool_)):
            raise TypeError(f"{who}: from_logits must be True, False or None, got {from_logits!r}")
        self.names, self.who = names, who
        self.from_logits = _takes_logits(loss_fn) if from_logits is None else bool(from_logits)
        self.loss_name = getattr(loss_fn, "__name__", type(loss_fn).__name__)

    def rule(self, shape) -> tuple[int, float]:
        """(number of classes, threshold) for outputs of this shape."""
        if not M.one_score(shape):
            return (shape[1] if len(shape) == 2 else 2), 0.5
        if self.from_logits is None:
            raise ValueError(
                f"{self.who}: the model gives one score per example (outputs {tuple(shape)}) and "
                f"loss_fn {self.loss_name} is not a gradwise loss whose input is known, so the "
                f"metrics {list(self.names)} cannot tell a logit (positive above 0) from a "
                f"probability (positive above 0.5): pass from_logits=True or from_logits=False, "
                f"or metrics=()")
        return 2, M.binary_threshold(self.from_logits, self.who)


# ---- the running sums of an epoch -------------------------------------------------------------
class Tracker:
    """Running sums of one epoch: the loss weighted by batch size, the true and predicted
    labels (for the confusion-matrix metrics), and each callable metric weighted likewise."""

    def __init__(self, scores: Scores, fns: dict):
        self.scores, self.names, self.fns = scores, scores.names, fns
        self.loss, self.n = 0.0, 0
        self.true, self.pred = [], []  # labels of the batches not yet counted in self.cm
        self.cm = 0
        self.sums = dict.fromkeys(fns, 0.0)
        self.num_classes = self.threshold = None

    def update(self, loss: float, X, y, out) -> None:
        n = len(X)
        self.loss += loss * n
        self.n += n
        if self.names or self.fns:
            yd, od = to_numpy(y), to_numpy(out)
            if self.names:
                if self.num_classes is None:
                    self.num_classes, self.threshold = self.scores.rule(od.shape)
                self.true.append(M.to_labels(yd))
                self.pred.append(M.to_labels(od, self.threshold))
            for k, f in self.fns.items():
                self.sums[k] += float(f(yd, od)) * n

    def result(self) -> dict:
        if self.n == 0:
            return {}
        logs = {"loss": self.loss / self.n}
        if self.names:
            if self.true:  # fold the new batches in: each label is counted once per epoch
                self.cm = self.cm + M.confusion_matrix(np.concatenate(self.true),
                                                       np.concatenate(self.pred), self.num_classes)
                self.true, self.pred = [], []
            scores = M.from_confusion(self.cm, "binary" if self.num_classes == 2 else "macro")
            logs.update({k: scores[k] for k in self.names})
        for k in self.fns:
            logs[k] = self.sums[k] / self.n
        return logs


# ---- evaluation and prediction ----------------------------------------------------------------
def evaluate_batches(model, loss_fn, data, scores: Scores, fns: dict) -> dict:
    """The loss and metrics over batches of (X, y) Tensors, in eval mode without a graph."""
    tracker = Tracker(scores, fns)
    with model.evaluating(), no_grad():
        for X, y in data:
            out = model(X)
            tracker.update(float(loss_fn(out, y).data), X, y, out)
    return tracker.result()


def evaluate(model, loss_fn, data, batch_size: int | None = None, metrics=("accuracy",),
             from_logits: bool | None = None) -> dict:
    """The loss and metrics of `model` on `data` ((X, y) or an iterable of batches), in eval
    mode without recording a graph: {'loss': ..., 'accuracy': ...}. batch_size (default 32)
    cuts (X, y) arrays, as in fit; metrics and from_logits as in fit()."""
    batch_size = batch_size_for(batch_size, is_arrays(data), data, "evaluate")
    names, fns = resolve_metrics(metrics)
    scores = Scores(names, loss_fn, from_logits, "evaluate")
    data = batches(data, batch_size, False, param_dtype(model), "evaluate: data")
    return evaluate_batches(model, loss_fn, data, scores, fns)


def predict(model, X, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for X (an array/Tensor, or an iterable of batches X or (X, y)),
    batch by batch in eval mode without a graph, concatenated into one ndarray. batch_size
    (default 32) cuts an array X, as in fit."""
    dtype = param_dtype(model)
    is_array = isinstance(X, (np.ndarray, Tensor))
    batch_size = batch_size_for(batch_size, is_array, X, "predict")
    if is_array:
        X = cast(to_numpy(X), dtype)
        inputs = (X[i:i + batch_size] for i in range(0, len(X), batch_size))
    else:
        inputs = (b[0] if isinstance(b, (tuple, list)) else b for b in X)
    with model.evaluating(), no_grad():
        outs = [model(as_tensor(xb, dtype)).data for xb in inputs]
    if not outs:
        raise ValueError("predict: no input")
    return np.concatenate(outs)
