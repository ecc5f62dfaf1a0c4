"""LivePlot: History.plot's curves redrawn while fit() runs.

    history = fit(..., callbacks=[LivePlot()])   # in a notebook: one figure, updated in place
"""
from __future__ import annotations

import time

from ..viz import in_notebook
from .history import History, plot_history
from .hooks import Callback


class LivePlot(Callback):
    """The loss and metric curves redrawn as training goes: at the end of an epoch when
    `every` seconds have passed since the last drawing, and when training ends if epochs came
    since, so a fast run is not slowed by drawing. In a notebook the figure is one display,
    updated in place (IPython's display handle); elsewhere give path= and the PNG there is
    rewritten. It keeps its own record of the epochs' logs (the same numbers as the History)."""

    def __init__(self, keys=None, every: float = 2.0, path=None, display=None):
        if display is None and path is None:
            if not in_notebook():
                raise ValueError("LivePlot: outside a notebook, give path= (a PNG to rewrite)")
            from IPython.display import display
        self.keys, self.every, self.path, self.display = keys, float(every), path, display
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.record, self.handle, self.drawings = History(), None, 0
        self._last, self._drawn = -float("inf"), 0

    def on_epoch_end(self, epoch, logs=None):
        self.record.on_epoch_end(epoch, logs)
        if time.monotonic() - self._last >= self.every:
            self.draw()

    def on_train_end(self, logs=None):
        if len(self.record.epoch) > self._drawn:
            self.draw()

    def draw(self) -> None:
        import matplotlib.pyplot as plt

        fig = plot_history(self.record, path=self.path, keys=self.keys)
        if self.display is not None:
            if self.handle is None:
                self.handle = self.display(fig, display_id=True)
            else:
                self.handle.update(fig)
        plt.close(fig)
        self._last, self._drawn = time.monotonic(), len(self.record.epoch)
        self.drawings += 1
