"""History: the per-epoch record that fit() returns, as Keras' History.

    h = fit(...)
    h.history["loss"], h.history["val_accuracy"]   # one value per epoch
    h.epoch                                       # the epoch indices (0-based)
"""
from __future__ import annotations

from .hooks import Callback


class History(Callback):
    """Every epoch's logs, as lists: keys 'loss', each metric, 'val_loss', 'val_<metric>', 'lr'."""

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"
