"""Callbacks: code that fit() calls at fixed points of training, with Keras' names and meaning.

    fit(model, F.cross_entropy, opt, (X, y), val_data=(Xv, yv), epochs=50,
        callbacks=[EarlyStopping(patience=5, restore_best_weights=True),
                   ModelCheckpoint("best.ckpt", save_best_only=True), CSVLogger("log.csv")])

The hooks, the logs they receive and how a callback stops training are in hooks.py (Callback,
CallbackList); this file holds the standard callbacks. Epochs are counted from 0 in the hooks
(the progress bar shows epoch + 1). The learning rate is scheduled by an lr scheduler passed as
fit(..., scheduler=...) (gradwise.optim.lr_scheduler), which fit steps once per epoch and
checkpoints; no callback sets it.
"""
from __future__ import annotations

import csv
import math
import operator
import os
import re
import string
import sys
import time
from io import StringIO

from .. import io
from ..viz import in_notebook
from .checkpoint import data_states, save_checkpoint
from .hooks import Callback, CallbackList

__all__ = ["Callback", "CallbackList", "ProgressBar", "EarlyStopping",
           "TerminateOnNaN", "ModelCheckpoint", "CSVLogger"]


def _template_fields(path: str, who: str) -> list[str]:
    """The log keys a path template such as 'ckpt-{epoch:02d}-{val_loss:.3f}.npz' uses."""
    try:
        parsed = list(string.Formatter().parse(path))
    except ValueError as e:
        raise ValueError(f"{who}: the path {path!r} is not a valid template: {e}") from e
    fields = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        key = re.split(r"[.\[]", field, maxsplit=1)[0]
        if key == "" or key.isdigit():
            raise ValueError(f"{who}: the path {path!r} has a positional field {{{field}}}; name "
                             f"the value, e.g. {{epoch}} or {{val_loss:.3f}}")
        fields.append(key)
    return fields


def _format(logs: dict, sep: str) -> str:
    def value(k, v):
        if not isinstance(v, float):
            return str(v)
        return f"{v:.3g}" if k == "lr" else f"{v:.4f}"
    return sep.join(f"{k}: {value(k, v)}" for k, v in logs.items() if k not in ("batch", "size"))


def _better(mode: str, monitor: str):
    """The comparison `current is better than best` for mode 'min', 'max' or 'auto'."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.removeprefix("val_")
        up = any(s in name for s in ("acc", "precision", "recall", "f1", "auc"))
        mode = "max" if up else "min"
    return operator.gt if mode == "max" else operator.lt


# ---- progress --------------------------------------------------------------------------
class ProgressBar(Callback):
    """verbose=0: silent; 1: a tqdm bar per epoch with the running loss and metrics;
    2: one line per epoch. The bar is refreshed at most every `interval` seconds, and the
    running metrics are computed only then, not per batch.

    one_bar=True reuses one bar for the whole run, reset each epoch (its description names
    the epoch; the History keeps every epoch's numbers), so a long run adds one output line,
    not one per epoch. None (the default) chooses it in a notebook, where every bar is a
    widget that stays in the cell."""

    def __init__(self, verbose: int = 1, interval: float = 0.1, file=None, one_bar: bool | None = None):
        if verbose not in (0, 1, 2):
            raise ValueError(f"ProgressBar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.verbose, self.interval, self.file = verbose, interval, file
        self.one_bar = in_notebook() if one_bar is None else bool(one_bar)
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = self._last = time.perf_counter()
        self._pending = 0
        if self.verbose == 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is optional: fall back to a line per epoch
                self.verbose = 2
                return
            desc = f"Epoch {epoch + 1}/{self.trainer.epochs}"
            if self.one_bar and self.bar is not None:
                self.bar.reset(total=self.trainer.steps)
                self.bar.set_description_str(desc, refresh=False)
                return
            self.bar = tqdm(total=self.trainer.steps, desc=desc, unit="batch",
                            file=self.file or sys.stderr, leave=True, mininterval=self.interval)

    def on_batch_end(self, batch, logs=None):
        if self.bar is None:
            return
        self._pending += 1
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            self.bar.set_postfix_str(_format(self.trainer.running_logs(), ", "), refresh=False)
            self.bar.update(self._pending)
            self._pending = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.bar is not None:
            self.bar.set_postfix_str(_format(logs, ", "), refresh=False)
            if self.one_bar:
                self.bar.update(self._pending)
                self._pending = 0
                self.bar.refresh()
            else:
                self.close()
        elif self.verbose == 2:
            secs = time.perf_counter() - self._t0
            print(f"Epoch {epoch + 1}/{self.trainer.epochs} - {secs:.2f}s - {_format(logs, ' - ')}",
                  file=self.file or sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        self.close()  # a run stopped mid-epoch (TerminateOnNaN) leaves a bar open

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self._pending)
            self.bar.close()
            self.bar = None


# ---- stopping ----------------------------------------------------------------------------
class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs (Keras semantics).

    An improvement is a change beyond min_delta in the good direction (mode 'min', 'max', or
    'auto': max for accuracy-like names, min otherwise). With a baseline, the wait counter
    is reset only by values that also beat the baseline. restore_best_weights=True loads the
    weights of the best epoch when training ends (whether or not it stopped early; Keras 3's
    behaviour). Epochs before start_from_epoch (a warm-up) are not monitored. Unlike Keras,
    a monitored value missing from the logs is an error, not a warning, and the best value
    is reset at the start of every fit().
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0, verbose: int = 0):
        if patience < 0 or start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: patience and start_from_epoch must be >= 0, got "
                             f"{patience} and {start_from_epoch}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.baseline, self.restore_best_weights, self.verbose = baseline, restore_best_weights, verbose
        self.start_from_epoch = start_from_epoch
        self.better = _better(mode, monitor)

    def log_keys_read(self):
        return [(self.monitor, "the monitored value")]

    def _improves(self, current, reference) -> bool:
        delta = self.min_delta if self.better is operator.gt else -self.min_delta
        return self.better(current - delta, reference)

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.best = -math.inf if self.better is operator.gt else math.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise KeyError(f"EarlyStopping: '{self.monitor}' is not in the epoch logs "
                           f"{sorted(logs or {})} (no val_data given?)")
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.state_dict(), epoch
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training (instead of raising) at the first batch whose loss is NaN or infinite.

    The message names the epoch and batch (0-based); it is printed and kept in `.message`,
    with `.epoch` and `.batch`. The parameters are those that produced the bad loss: fit()
    checks the loss before backward(), so no update with a NaN gradient is applied.
    """

    message = epoch = batch = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.epoch, self.batch = self.trainer.epoch, batch
            self.message = (f"TerminateOnNaN: the loss became {loss} at epoch {self.epoch}, "
                            f"batch {batch} (0-based): terminating training")
            print(self.message)
            self.trainer.stop_training = True


# ---- saving and logging -----------------------------------------------------------------
class ModelCheckpoint(Callback):
    """Save a full checkpoint (model, optimizer, scheduler, epoch, generators) at the end of
    epochs. The generators are gradwise's and those of fit's train_data and val_data (stored
    as 'train' and 'val', e.g. a DataLoader's own generator=); data that keeps a generator it
    cannot save is refused when training starts, naming it.

    path may hold format fields filled from the epoch logs and the 1-based epoch, e.g.
    "ckpt-{epoch:02d}-{val_loss:.3f}.npz". save_best_only=True writes only when `monitor`
    improves on the best value so far; save_weights_only=True stores model.state_dict() alone.
    A checkpoint reloads with load_checkpoint(path, model, optimizer, scheduler,
    data={'train': loader, ...}), which returns the number of epochs done: pass it to
    fit(..., initial_epoch=...) to continue.
    """

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", save_weights_only: bool = False, verbose: int = 0):
        self.path, self.monitor = os.fspath(path), monitor
        self.save_best_only, self.save_weights_only, self.verbose = save_best_only, save_weights_only, verbose
        self.better = _better(mode, monitor)
        self.fields = [k for k in _template_fields(self.path, "ModelCheckpoint") if k != "epoch"]
        self.best = None
        self.saved = []  # the paths written, in order

    def log_keys_read(self):
        monitored = [(self.monitor, "the monitored value")] if self.save_best_only else []
        return monitored + [(k, f"the path field {{{k}}}") for k in self.fields]

    def _data(self) -> dict:
        t = self.trainer
        return {"train": t.train_data, **({"val": t.val_data} if t.val_data is not None else {})}

    def on_train_begin(self, logs=None):
        if not self.save_weights_only:  # data whose generator cannot be saved: say so now
            data_states(self._data(), "ModelCheckpoint")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                raise KeyError(f"ModelCheckpoint: '{self.monitor}' is not in the epoch logs {sorted(logs)}")
            if self.best is not None and not self.better(current, self.best):
                return
            self.best = current
        missing = [k for k in self.fields if k not in logs]
        if missing:
            raise KeyError(f"ModelCheckpoint: the path fields {missing} are not in the epoch logs "
                           f"{sorted(logs)}")
        path = self.path.format(epoch=epoch + 1, **logs)
        t = self.trainer
        if self.save_weights_only:
            io.save(self.model.state_dict(), path)
        else:
            save_checkpoint(path, t.model, t.optimizer, t.scheduler, epoch=epoch + 1,
                            data=self._data())
        self.saved.append(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved {path}")


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file: a header ('epoch' then the log keys), a row per
    epoch. The file is rewritten whole after every epoch through the atomic writer, so a
    crash loses nothing and a reader never sees half a row. append=True continues an
    existing file (its header stays)."""

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path, self.separator, self.append = os.fspath(path), separator, append

    def on_train_begin(self, logs=None):
        self.keys = None
        self.text = ""
        if self.append and os.path.exists(self.path):
            with open(self.path, newline="") as f:
                self.text = f.read()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
        rows = StringIO()
        writer = csv.writer(rows, delimiter=self.separator)
        if not self.text:
            writer.writerow(["epoch", *self.keys])
        writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
        self.text += rows.getvalue()
        data = self.text.encode()
        io.atomic_write(self.path, lambda f: f.write(data))
