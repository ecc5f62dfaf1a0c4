"""Training: fit/evaluate/predict, callbacks, history, metrics and resumable checkpoints.

    from gradwise.train import fit, callbacks
    history = fit(model, F.cross_entropy, opt, (X, y), val_data=(Xv, yv), epochs=20,
                  callbacks=[callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    history.history["val_loss"]

This floor sits above nn/ and optim/: models stay plain nn.Modules and the loop is a
function over them (no Model class to subclass); callbacks see the run's state as
`self.trainer`.
"""
from . import callbacks, metrics
from .callbacks import (
    Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ProgressBar,
    TerminateOnNaN,
)
from .checkpoint import load_checkpoint, save_checkpoint
from .history import History
from .monitor import HealthMonitor, HealthWarning
from .loop import Trainer, evaluate, fit, get_lr, predict, set_lr

__all__ = [
    "fit", "evaluate", "predict", "History", "Trainer", "callbacks", "metrics",
    "save_checkpoint", "load_checkpoint", "get_lr", "set_lr", "Callback", "ProgressBar",
    "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "TerminateOnNaN", "CSVLogger",
    "HealthMonitor", "HealthWarning",
]
