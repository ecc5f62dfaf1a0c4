"""fit: the training loop as a function over a plain nn.Module.

    history = fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=1e-3),
                  (X_train, y_train), val_data=(X_dev, y_dev), epochs=20, batch_size=64,
                  callbacks=[EarlyStopping(patience=3)], metrics=["accuracy"])

Each training step is the one every PyTorch user writes:
    out = model(X); loss = loss_fn(out, y); optimizer.zero_grad(); loss.backward(); optimizer.step()
with model.train() set at the start of every epoch and validation run under no_grad() in
eval mode (see evaluation.py). The loss value is read once per batch (a Python float) and
checked for NaN/inf before backward, so a bad loss is reported with its epoch and batch and
never applied. The data comes as mini-batches from batches.py; the learning rate changes
only through the scheduler, stepped once per epoch after validation.
"""
from __future__ import annotations

import math

from .. import backend
from ..optim.lr_scheduler import ReduceLROnPlateau
from .batches import batch_size_for, batches, is_arrays, param_dtype, shuffle_for
from .callbacks import ProgressBar
from .evaluation import Scores, Tracker, evaluate_batches, resolve_metrics
from .history import History
from .hooks import CallbackList, check_log_keys
from .monitor import HealthMonitor


class Trainer:
    """The state of one fit() run, seen by callbacks as self.trainer: model, loss_fn,
    optimizer, scheduler, history, epochs, steps (batches per epoch, None if unknown),
    train_data and val_data (as given to fit), epoch (the current one, 0-based) and
    stop_training (set it to end the run)."""

    def __init__(self, model, loss_fn, optimizer, scheduler, epochs, train, val, train_data,
                 val_data, scores: Scores, fns: dict):
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, scheduler
        self.epochs, self.train, self.val, self.steps = epochs, train, val, train.steps
        self.train_data, self.val_data = train_data, val_data
        self.scores, self.fns = scores, fns
        self.history = History()
        self.callbacks = None
        self.epoch = None
        self.stop_training = False
        self.tracker = None
        self.checked = False  # the first batch's output checked (see _check_first_output)

    def running_logs(self) -> dict:
        """The loss and metrics of the current epoch so far (computed on demand)."""
        return self.tracker.result() if self.tracker is not None else {}


def fit(model, loss_fn, optimizer, train_data, val_data=None, epochs: int = 1,
        batch_size: int | None = None, shuffle: bool | None = None, callbacks=None,
        metrics=("accuracy",), scheduler=None, verbose: int = 1, seed: int | None = None,
        initial_epoch: int = 0, monitor=False, from_logits: bool | None = None) -> History:
    """Train `model` for epochs initial_epoch .. epochs-1; return the History.

    loss_fn(out, y) -> scalar Tensor (mean over the batch), e.g. F.cross_entropy.
    train_data, val_data: (X, y) arrays/Tensors, or a re-iterable of (X, y) batches (e.g. a
        DataLoader). Floating data takes the model's parameter dtype (float64 NumPy data just
        works): arrays are cast once, the batches of a re-iterable as they come.
    batch_size (default 32), shuffle (default True): how (X, y) arrays are cut and ordered;
        batch_size cuts val_data arrays too. A DataLoader batches and shuffles itself: giving
        either where it applies to no data is a ValueError naming it.
    metrics: names among 'accuracy', 'precision', 'recall', 'f1' (exact over the epoch:
        binary for one-column or two-class outputs, macro-averaged above), and/or functions
        fn(y_true, y_pred) -> float (averaged over batches, weighted by their size); a dict
        {name: fn} names them. Outputs (m, C) are scored by argmax; one score per example,
        (m,) or (m, 1), by a threshold: 0 for logits, 0.5 for probabilities (from_logits).
    scheduler: a gradwise lr scheduler (gradwise.optim.lr_scheduler), the way to change the
        learning rate during fit: stepped once per epoch after validation
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

    The epoch logs hold the loss and metrics, their val_ twins, and 'lr' (the first param
    group's, during the epoch). A NaN or infinite training loss raises FloatingPointError
    naming the epoch and batch, before any update with it; with a TerminateOnNaN callback
    training stops instead. Every callback's on_train_end runs, also when training raises.
    """
    t = _trainer(model, loss_fn, optimizer, scheduler, train_data, val_data, epochs,
                 initial_epoch, batch_size, shuffle, metrics, from_logits, seed)
    t.callbacks = cbs = _callbacks(t, callbacks, verbose, monitor)
    with cbs:  # on leaving, on_train_end: also on an error, so no bar or hook is left behind
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            t.epoch = epoch
            cbs.on_epoch_begin(epoch)
            lr = optimizer.param_groups[0]["lr"]
            logs = _train_epoch(t)
            if logs is None:  # a NaN loss, and a callback that stopped training
                break
            if t.val is not None:
                val = evaluate_batches(model, loss_fn, t.val, t.scores, t.fns)
                logs.update({"val_" + k: v for k, v in val.items()})
            logs["lr"] = lr
            if scheduler is not None:
                _step_scheduler(scheduler, logs)
            cbs.on_epoch_end(epoch, logs)
            if t.stop_training:
                break
    return t.history


def _trainer(model, loss_fn, optimizer, scheduler, train_data, val_data, epochs, initial_epoch,
             batch_size, shuffle, metrics, from_logits, seed) -> Trainer:
    """Check fit's arguments and build the run's state; nothing is trained yet."""
    batch_size = batch_size_for(batch_size, is_arrays(train_data) or is_arrays(val_data),
                                train_data, "fit")
    shuffle = shuffle_for(shuffle, train_data, "fit")
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(f"fit: need 0 <= initial_epoch <= epochs, got {initial_epoch} and {epochs}")
    _check_scheduler(scheduler, val_data is not None)
    if seed is not None:
        backend.manual_seed(seed)
    dtype = param_dtype(model)
    train = batches(train_data, batch_size, shuffle, dtype, "fit: train_data")
    val = None if val_data is None else batches(val_data, batch_size, False, dtype, "fit: val_data")
    names, fns = resolve_metrics(metrics)
    scores = Scores(names, loss_fn, from_logits, "fit")
    return Trainer(model, loss_fn, optimizer, scheduler, epochs, train, val, train_data,
                   val_data, scores, fns)


def _callbacks(t: Trainer, callbacks, verbose, monitor) -> CallbackList:
    """The user's callbacks, after a ProgressBar (verbose, unless one is given) and before the
    HealthMonitor (monitor) and the History; their log keys checked before the first epoch."""
    cbs = list(callbacks or [])
    if verbose and not any(isinstance(c, ProgressBar) for c in cbs):
        cbs.insert(0, ProgressBar(verbose))
    if monitor:
        t.history.monitor = monitor if isinstance(monitor, HealthMonitor) else HealthMonitor()
        cbs.append(t.history.monitor)
    cbs.append(t.history)
    logged = {"loss", *t.scores.names, *t.fns}
    has_val = t.val is not None
    check_log_keys(cbs, logged | {"lr"} | ({"val_" + k for k in logged} if has_val else set()),
                   has_val)
    return CallbackList(cbs, t)


def _train_epoch(t: Trainer) -> dict | None:
    """One pass over the training batches: the epoch's logs, or None when a callback stopped
    training at a NaN loss."""
    model, loss_fn, optimizer, cbs = t.model, t.loss_fn, t.optimizer, t.callbacks
    t.tracker = tracker = Tracker(t.scores, t.fns)
    model.train()
    for b, (X, y) in enumerate(t.train):
        cbs.on_batch_begin(b, {"batch": b, "size": len(X)})
        out = model(X)
        if not t.checked:
            _check_first_output(t, out)
        loss = loss_fn(out, y)
        value = float(loss.data)
        if not math.isfinite(value):
            return _bad_loss(t, b, len(X), value)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tracker.update(value, X, y, out)
        cbs.on_batch_end(b, {"batch": b, "size": len(X), "loss": value})
        if t.stop_training:
            break
    if tracker.n == 0:
        raise ValueError("fit: train_data gave no batches")
    return tracker.result()


def _check_first_output(t: Trainer, out) -> None:
    """Checks run once, on the first batch's output, before any update: the labels of
    in-memory data against the model's C outputs, and, when classification metrics are asked
    for, whether one score per example is known as a logit or a probability."""
    shape = out.shape
    if t.scores.names:
        t.scores.rule(shape)
    if len(shape) == 2 and shape[1] >= 2:
        for data in (t.train, t.val):
            if data is not None:
                data.check_labels(shape[1])
    t.checked = True


def _bad_loss(t: Trainer, batch: int, size: int, value: float) -> None:
    t.callbacks.on_batch_end(batch, {"batch": batch, "size": size, "loss": value})
    if t.stop_training:
        return None
    raise FloatingPointError(
        f"fit: the loss became {value} at epoch {t.epoch}, batch {batch} (0-based); no update "
        f"was applied with it. Lower the learning rate, or check the data for NaN/inf "
        f"(TerminateOnNaN() stops training instead of raising)")


# ---- the scheduler ----------------------------------------------------------------------------
def _check_scheduler(scheduler, has_val: bool) -> None:
    """fit steps ReduceLROnPlateau with a loss, which improves downward: mode='max' (for an
    accuracy) would cut the lr while the loss improves."""
    if isinstance(scheduler, ReduceLROnPlateau) and scheduler.mode != "min":
        raise ValueError(f"fit: ReduceLROnPlateau(mode={scheduler.mode!r}) would be stepped with "
                         f"{'val_loss' if has_val else 'loss (there is no val_data)'}, which "
                         f"improves downward: build it with mode='min', or step it yourself "
                         f"with the value it should watch")


def _step_scheduler(scheduler, logs: dict) -> None:
    """One scheduler step per epoch; ReduceLROnPlateau gets val_loss (or loss)."""
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()
