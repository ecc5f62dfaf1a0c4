"""The callback protocol: the hooks fit() calls (Callback), the list that calls them on every
callback and closes them when training ends or fails (CallbackList), and the check, before the
first epoch, that every log key a callback reads will be logged.

Epochs and batches are counted from 0 in the hooks. Epoch logs hold 'loss', each metric,
'val_loss' and 'val_<metric>' when there is validation data, and 'lr'. Batch logs hold 'batch',
'size' and 'loss' (that batch's loss); the running means of the epoch so far are
`self.trainer.running_logs()` (computed on demand, not per batch). A callback stops training
with `self.trainer.stop_training = True`.
"""
from __future__ import annotations

from contextlib import ExitStack


class Callback:
    """Base class: override the hooks you need. fit() sets self.trainer and self.model."""

    trainer = None
    model = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer
        self.model = trainer.model

    def on_train_begin(self, logs=None):
        """Before the first epoch."""

    def on_train_end(self, logs=None):
        """After the last epoch (logs: the last epoch's), also after an early stop, and when
        fit raises: close here what on_train_begin opened."""

    def on_epoch_begin(self, epoch, logs=None):
        """Before the epoch's shuffle and first batch."""

    def on_epoch_end(self, epoch, logs=None):
        """After validation and the scheduler step; logs: the epoch's results."""

    def on_batch_begin(self, batch, logs=None):
        """Before the forward pass; logs: 'batch', 'size'."""

    def on_batch_end(self, batch, logs=None):
        """After optimizer.step(); logs: 'batch', 'size', 'loss' (this batch's)."""


def _overrides(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook) is not getattr(Callback, hook)


class CallbackList:
    """The callbacks of one fit(), called in order: each hook calls it on every callback.

    Used as a context manager around training, it is the cleanup: on leaving the block, also
    by an error (a NaN loss, a KeyboardInterrupt), on_train_end runs on every callback whose
    on_train_begin ran, with the last epoch's logs, so progress bars close and the monitor's
    hooks go. Each one runs even if one before it raised; such an error is chained to the one
    in flight. The batch hooks call only the callbacks that override them."""

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_trainer(trainer)
        self._batch_begin = [c for c in self.callbacks if _overrides(c, "on_batch_begin")]
        self._batch_end = [c for c in self.callbacks if _overrides(c, "on_batch_end")]
        self._begun = []
        self.logs = {}  # the last epoch's

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stack = ExitStack()
        for c in reversed(self._begun):  # the stack unwinds last in, first out
            stack.callback(c.on_train_end, self.logs)
        self._begun = []
        return stack.__exit__(*exc)

    def on_train_begin(self, logs=None):
        for c in self.callbacks:
            c.on_train_begin(logs)
            self._begun.append(c)

    def on_train_end(self, logs=None):
        self.logs = self.logs if logs is None else logs
        self.__exit__(None, None, None)

    def on_epoch_begin(self, epoch, logs=None):
        for c in self.callbacks:
            c.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)
        self.logs = logs

    def on_batch_begin(self, batch, logs=None):
        for c in self._batch_begin:
            c.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        for c in self._batch_end:
            c.on_batch_end(batch, logs)


def check_log_keys(callbacks, keys: set, has_val: bool) -> None:
    """Before the first epoch: every log key a callback will read (a monitor, a field of
    ModelCheckpoint's path) is one fit will log, else a ValueError now instead of a KeyError
    after the first epoch. A callback of the user's that writes into the epoch logs may add
    keys, so the callbacks after it are checked only when they read the logs."""
    for c in callbacks:
        for key, what in getattr(c, "log_keys_read", lambda: ())():
            if key not in keys:
                hint = (" (val_ values are logged only with val_data)" if key.startswith("val_")
                        and not has_val else "")
                raise ValueError(f"{type(c).__name__}: {what} '{key}' will never be in the epoch "
                                 f"logs, which hold {sorted(keys)}{hint}")
        if _overrides(c, "on_epoch_end") and not type(c).__module__.startswith("gradwise."):
            return
