"""fit, evaluate, predict: the training loop as functions over a plain nn.Module.

    history = fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=1e-3),
                  (X_train, y_train), val_data=(X_dev, y_dev), epochs=20, batch_size=64,
                  callbacks=[EarlyStopping(patience=3)], metrics=["accuracy"])
    evaluate(model, F.cross_entropy, (X_test, y_test))     # {'loss': ..., 'accuracy': ...}
    predict(model, X_test)                                  # the outputs, as one ndarray

Each training step is the one every PyTorch user writes:
    out = model(X); loss = loss_fn(out, y); optimizer.zero_grad(); loss.backward(); optimizer.step()
with model.train() set at the start of every epoch and validation run under no_grad() in
eval mode. Data is either a tuple (X, y) of arrays/Tensors (the fast path: one permutation
of the indices per epoch from gradwise's generator, whole batches by fancy indexing, the last
smaller batch kept, the course's mini-batch partition) or any re-iterable of (X, y) batches,
such as a DataLoader.

Per batch the loop does only what it must: the loss value is read once (a Python float; it is
checked for NaN/inf before backward, so a bad loss is reported with its epoch and batch and
never applied), and the classification metrics keep just the predicted labels; the confusion
matrix, and from it accuracy/precision/recall/f1, is computed once per epoch.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from . import metrics as M
from .callbacks import ProgressBar, _overrides, check_log_keys
from .history import History
from .monitor import HealthMonitor

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1")
_ALIASES = {"acc": "accuracy", "f1_score": "f1"}


# ---- the optimizer's learning rate -----------------------------------------------------------
def get_lr(optimizer) -> float:
    """The learning rate of the optimizer's first parameter group."""
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else float(optimizer.lr)


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for g in groups:
            g["lr"] = lr
    else:
        optimizer.lr = lr


def _check_scheduler(scheduler, has_val: bool) -> None:
    """fit steps ReduceLROnPlateau with a loss, which improves downward: mode='max' (for an
    accuracy) would cut the lr while the loss improves."""
    from ..optim.lr_scheduler import ReduceLROnPlateau

    if isinstance(scheduler, ReduceLROnPlateau) and scheduler.mode != "min":
        raise ValueError(f"fit: ReduceLROnPlateau(mode={scheduler.mode!r}) would be stepped with "
                         f"{'val_loss' if has_val else 'loss (there is no val_data)'}, which "
                         f"improves downward: build it with mode='min', or step it yourself "
                         f"with the value it should watch")


def _step_scheduler(scheduler, logs: dict) -> None:
    """One scheduler step per epoch; ReduceLROnPlateau gets val_loss (or loss)."""
    from ..optim.lr_scheduler import ReduceLROnPlateau

    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


# ---- data --------------------------------------------------------------------------------------
def _array(a) -> np.ndarray:
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _cast(a: np.ndarray, dtype) -> np.ndarray:
    """Floating data in the model's dtype (float64 NumPy data into a float32 model); other
    data (integer labels) as it is."""
    if dtype is None or a.dtype.kind != "f" or a.dtype == dtype:
        return a
    return a.astype(dtype)


def _tensor(a, dtype) -> Tensor:
    """A batch as a Tensor in the model's dtype (see _cast)."""
    data = a.data if isinstance(a, Tensor) else np.asarray(a)
    cast = _cast(data, dtype)
    return a if isinstance(a, Tensor) and cast is data else Tensor(cast)


class _ArrayBatches:
    """Mini-batches of in-memory arrays X, y: shuffle the indices, cut, index whole batches."""

    def __init__(self, X, y, batch_size: int, shuffle: bool, dtype, name: str):
        X, y = _array(X), _array(y)
        if len(X) != len(y):
            raise ValueError(f"{name}: X has {len(X)} examples but y has {len(y)}")
        if len(X) == 0:
            raise ValueError(f"{name}: the dataset is empty")
        X, y = _cast(X, dtype), _cast(y, dtype)  # float64 data into a float32 model: once, here
        self.X, self.y, self.batch_size, self.shuffle = X, y, batch_size, shuffle
        self.steps = -(-len(X) // batch_size)

    def __iter__(self):
        n, bs, X, y = len(self.X), self.batch_size, self.X, self.y
        if self.shuffle:
            order = backend.rng().permutation(n)
            for i in range(0, n, bs):
                idx = order[i:i + bs]
                yield Tensor(X[idx]), Tensor(y[idx])
        else:
            for i in range(0, n, bs):
                yield Tensor(X[i:i + bs]), Tensor(y[i:i + bs])


class _IterableBatches:
    """Any re-iterable of (X, y) batches (a DataLoader, a list); arrays become Tensors, and
    floating batches take the model's dtype as (X, y) arrays do."""

    def __init__(self, data, name: str, dtype=None):
        if isinstance(data, Iterator):
            raise TypeError(f"{name}: a one-shot iterator cannot be replayed each epoch; pass a "
                            f"DataLoader, a list of batches or a tuple (X, y)")
        self.data, self.dtype = data, dtype
        self.steps = len(data) if hasattr(data, "__len__") else None

    def __iter__(self):
        dtype = self.dtype
        for X, y in self.data:
            yield _tensor(X, dtype), _tensor(y, dtype)


def _is_arrays(data) -> bool:
    return (isinstance(data, tuple) and len(data) == 2
            and all(isinstance(a, (np.ndarray, Tensor)) for a in data))


def _batches(data, batch_size, shuffle, dtype, name):
    if _is_arrays(data):
        return _ArrayBatches(*data, batch_size, shuffle, dtype, name)
    return _IterableBatches(data, name, dtype)


def _first_output_check(sets, scores):
    """Checks run once, on the first batch's output, before any update: integer class labels
    of in-memory data ((X, y) arrays) must lie in [0, C) for a model with C outputs (the whole
    y is checked, so a bad label fails before the first update instead of at the batch that
    happens to hold it), and one score per example needs to be known as a logit or a
    probability when classification metrics are asked for."""
    def check(out) -> None:
        shape = out.shape
        if scores.names:
            scores.rule(shape)
        if len(shape) != 2 or shape[1] < 2:
            return
        C = shape[1]
        for data, name in sets:
            y = data.y if isinstance(data, _ArrayBatches) else None
            if y is None or y.ndim != 1 or y.dtype.kind not in "iu":
                continue
            bad = np.flatnonzero((y < 0) | (y >= C))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{name}: label {y[i]} is outside [0, {C}) (example {i}; {bad.size} "
                                 f"such labels in all): the model outputs {C} classes. Nothing "
                                 f"was trained")
    return check


def _param_dtype(model):
    return next((p.dtype for p in model.parameters() if p.dtype.kind == "f"), None)


# ---- metrics -------------------------------------------------------------------------------
def _resolve_metrics(metrics) -> tuple[tuple, dict]:
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


class _Scores:
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


class _Tracker:
    """Running sums of one epoch: the loss weighted by batch size, the true and predicted
    labels (for the confusion-matrix metrics), and each callable metric weighted likewise."""

    def __init__(self, scores: _Scores, fns: dict):
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
            yd = y.data if isinstance(y, Tensor) else y
            od = out.data if isinstance(out, Tensor) else np.asarray(out)
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


# ---- the loop -------------------------------------------------------------------------------
class Trainer:
    """The state of one fit() run, seen by callbacks as self.trainer: model, loss_fn,
    optimizer, scheduler, history, epochs, steps (batches per epoch, None if unknown),
    train_data and val_data (as given to fit), epoch (the current one, 0-based) and
    stop_training (set it to end the run)."""

    def __init__(self, model, loss_fn, optimizer, scheduler, epochs, steps, history, callbacks,
                 train_data=None, val_data=None):
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, scheduler
        self.epochs, self.steps, self.history, self.callbacks = epochs, steps, history, callbacks
        self.train_data, self.val_data = train_data, val_data
        self.epoch = None
        self.stop_training = False
        self.tracker = None
        self.check_output = None  # run on the first batch's output, then dropped

    def running_logs(self) -> dict:
        """The loss and metrics of the current epoch so far (computed on demand)."""
        return self.tracker.result() if self.tracker is not None else {}


def fit(model, loss_fn, optimizer, train_data, val_data=None, epochs: int = 1,
        batch_size: int = 32, shuffle: bool = True, callbacks=None, metrics=("accuracy",),
        scheduler=None, verbose: int = 1, seed: int | None = None,
        initial_epoch: int = 0, monitor=False, from_logits: bool | None = None) -> History:
    """Train `model` for epochs initial_epoch .. epochs-1; return the History.

    loss_fn(out, y) -> scalar Tensor (mean over the batch), e.g. F.cross_entropy.
    train_data, val_data: (X, y) arrays/Tensors, or a re-iterable of (X, y) batches (e.g. a
        DataLoader). Floating data takes the model's parameter dtype (float64 NumPy data just
        works): arrays are cast once, the batches of a re-iterable as they come.
    metrics: names among 'accuracy', 'precision', 'recall', 'f1' (exact over the epoch:
        binary for one-column or two-class outputs, macro-averaged above), and/or functions
        fn(y_true, y_pred) -> float (averaged over batches, weighted by their size); a dict
        {name: fn} names them. Outputs (m, C) are scored by argmax; one score per example,
        (m,) or (m, 1), by a threshold: 0 for logits, 0.5 for probabilities (from_logits).
    scheduler: a gradwise lr scheduler, stepped once per epoch after validation
        (ReduceLROnPlateau.step(val_loss), or loss without validation data).
    verbose: 0 silent, 1 a progress bar per epoch, 2 a line per epoch.
    seed: if given, gradwise.manual_seed(seed) first (shuffling, dropout). Leave it None when
        resuming from a checkpoint: load_checkpoint restores the generator instead.
    initial_epoch: the epoch to start at (Keras' meaning), e.g. what load_checkpoint returned.
    monitor: True (or a HealthMonitor to configure it) watches the training's health per layer:
        gradient norms, update/weight ratios, activations, saturated and dead units, with
        warnings in plain words; the record is history.monitor (see gradwise.train.monitor).
    from_logits: whether one score per example is a logit (True) or a probability (False),
        for the classification metrics (Keras' from_logits). None takes it from the loss:
        F.cross_entropy and F.binary_cross_entropy_with_logits read logits,
        F.binary_cross_entropy probabilities; with another loss, a model giving one score
        per example and a classification metric is an error that asks for it.

    A NaN or infinite training loss raises FloatingPointError naming the epoch and batch,
    before any update with it; with a TerminateOnNaN callback training stops instead.
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"fit: batch_size must be a positive integer, got {batch_size!r}")
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(f"fit: need 0 <= initial_epoch <= epochs, got {initial_epoch} and {epochs}")
    if seed is not None:
        backend.manual_seed(seed)
    dtype = _param_dtype(model)
    train = _batches(train_data, int(batch_size), shuffle, dtype, "fit: train_data")
    val = None if val_data is None else _batches(val_data, int(batch_size), False, dtype,
                                                 "fit: val_data")
    names, fns = _resolve_metrics(metrics)
    scores = _Scores(names, loss_fn, from_logits, "fit")

    history = History()
    cbs = list(callbacks or [])
    if verbose and not any(isinstance(c, ProgressBar) for c in cbs):
        cbs.insert(0, ProgressBar(verbose))
    if monitor:
        history.monitor = monitor if isinstance(monitor, HealthMonitor) else HealthMonitor()
        cbs.append(history.monitor)
    cbs.append(history)
    t = Trainer(model, loss_fn, optimizer, scheduler, epochs, train.steps, history, cbs,
                train_data, val_data)
    t.check_output = _first_output_check([(train, "fit: train_data"), (val, "fit: val_data")],
                                         scores)
    for c in cbs:
        c.set_trainer(t)
    logged = {"loss", *names, *fns}
    check_log_keys(cbs, logged | {"lr"} | ({"val_" + k for k in logged} if val else set()),
                   val is not None)

    try:
        return _run(t, cbs, train, val, scores, fns, initial_epoch, epochs)
    finally:  # on an error too: no progress bar left half drawn, no monitor hook left behind
        for c in cbs:
            if isinstance(c, ProgressBar):
                c.close()
            elif isinstance(c, HealthMonitor):
                c.detach()


def _run(t: Trainer, cbs, train, val, scores, fns, initial_epoch, epochs) -> History:
    model, loss_fn, optimizer = t.model, t.loss_fn, t.optimizer
    batch_begin = [c for c in cbs if _overrides(c, "on_batch_begin")]
    batch_end = [c for c in cbs if _overrides(c, "on_batch_end")]
    for c in cbs:
        c.on_train_begin()
    _check_scheduler(t.scheduler, val is not None)
    logs = {}
    for epoch in range(initial_epoch, epochs):
        t.epoch = epoch
        for c in cbs:
            c.on_epoch_begin(epoch)
        lr = get_lr(optimizer)
        logs = _train_epoch(t, train, scores, fns, batch_begin, batch_end)
        if logs is None:  # a NaN loss and a callback that stopped training
            break
        if val is not None:
            logs.update({"val_" + k: v for k, v in _evaluate(model, loss_fn, val, scores, fns).items()})
        logs["lr"] = lr
        if t.scheduler is not None:
            _step_scheduler(t.scheduler, logs)
        for c in cbs:
            c.on_epoch_end(epoch, logs)
        if t.stop_training:
            break
    for c in cbs:
        c.on_train_end(logs)
    return t.history


def _train_epoch(t: Trainer, batches, scores, fns, batch_begin, batch_end) -> dict | None:
    model, loss_fn, optimizer = t.model, t.loss_fn, t.optimizer
    t.tracker = tracker = _Tracker(scores, fns)
    model.train()
    for b, (X, y) in enumerate(batches):
        for c in batch_begin:
            c.on_batch_begin(b, {"batch": b, "size": len(X)})
        out = model(X)
        if t.check_output is not None:
            t.check_output(out)
            t.check_output = None
        loss = loss_fn(out, y)
        value = float(loss.data)
        if not math.isfinite(value):
            return _bad_loss(t, b, len(X), value, batch_end)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tracker.update(value, X, y, out)
        if batch_end:
            logs = {"batch": b, "size": len(X), "loss": value}
            for c in batch_end:
                c.on_batch_end(b, logs)
            if t.stop_training:
                break
    if tracker.n == 0:
        raise ValueError("fit: train_data gave no batches")
    return tracker.result()


def _bad_loss(t: Trainer, batch: int, size: int, value: float, batch_end) -> None:
    logs = {"batch": batch, "size": size, "loss": value}
    for c in batch_end:
        c.on_batch_end(batch, logs)
    if t.stop_training:
        return None
    raise FloatingPointError(
        f"fit: the loss became {value} at epoch {t.epoch}, batch {batch} (0-based); no update "
        f"was applied with it. Lower the learning rate, or check the data for NaN/inf "
        f"(TerminateOnNaN() stops training instead of raising)")


# ---- evaluation and prediction ----------------------------------------------------------------
class _EvalMode:
    """model.eval() inside the block; each module's own mode restored after it."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        return self

    def __exit__(self, *exc):
        for m, mode in self.modes:
            object.__setattr__(m, "training", mode)
        return False


def _evaluate(model, loss_fn, batches, scores, fns) -> dict:
    tracker = _Tracker(scores, fns)
    with _EvalMode(model), no_grad():
        for X, y in batches:
            out = model(X)
            tracker.update(float(loss_fn(out, y).data), X, y, out)
    return tracker.result()


def evaluate(model, loss_fn, data, batch_size: int = 32, metrics=("accuracy",),
             from_logits: bool | None = None) -> dict:
    """The loss and metrics of `model` on `data` ((X, y) or an iterable of batches), in eval
    mode without recording a graph: {'loss': ..., 'accuracy': ...}. metrics and from_logits
    as in fit()."""
    names, fns = _resolve_metrics(metrics)
    scores = _Scores(names, loss_fn, from_logits, "evaluate")
    return _evaluate(model, loss_fn, _batches(data, int(batch_size), False, _param_dtype(model),
                                              "evaluate: data"), scores, fns)


def predict(model, X, batch_size: int = 32) -> np.ndarray:
    """The model's outputs for X (an array/Tensor, or an iterable of batches X or (X, y)),
    batch by batch in eval mode without a graph, concatenated into one ndarray."""
    dtype = _param_dtype(model)
    if isinstance(X, (np.ndarray, Tensor)):
        X = _cast(_array(X), dtype)
        batches = (X[i:i + batch_size] for i in range(0, len(X), batch_size))
    else:
        batches = (b[0] if isinstance(b, (tuple, list)) else b for b in X)
    outs = []
    with _EvalMode(model), no_grad():
        for xb in batches:
            outs.append(model(_tensor(xb, dtype)).data)
    if not outs:
        raise ValueError("predict: no input")
    return np.concatenate(outs)
