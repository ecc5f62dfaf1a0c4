"""History: the per-epoch record that fit() returns, as Keras' History.

    h = fit(...)
    h.history["loss"], h.history["val_accuracy"]   # one value per epoch
    h.epoch                                       # the epoch indices (0-based)
    h.plot("curves.png")                          # the curves, train and validation
"""
from __future__ import annotations

from ..io import save_figure
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

    def plot(self, path=None, keys=None):
        """The loss and metric curves, train solid and validation dashed, as a matplotlib
        Figure (saved as a PNG at path when given)."""
        return plot_history(self, path=path, keys=keys)

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


def plot_history(history, path=None, keys=None):
    """One panel per quantity (the loss, then each metric) with the training curve solid and
    the validation curve dashed, over epochs; the lr is left out unless keys names it.
    Returns the matplotlib Figure, also saved as a PNG at path when given."""
    import matplotlib.pyplot as plt

    logs = history.history
    names = keys or [k for k in logs if not k.startswith("val_") and k != "lr"]
    missing = [k for k in names if k not in logs]
    if missing or not names:
        raise ValueError(f"History.plot: no curve named {missing or names}; the history has {list(logs)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    epochs = [e + 1 for e in history.epoch]
    for ax, name in zip(axes[0], names):
        ax.plot(epochs[:len(logs[name])], logs[name], marker="o", ms=3, label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs[:len(logs[f"val_{name}"])], logs[f"val_{name}"], "--", marker="o", ms=3,
                    label="validation")
            ax.legend(fontsize=8)
        ax.set_xlabel("epoch")
        ax.set_title(name)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
