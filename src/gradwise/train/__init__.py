"""Training: fit/evaluate/predict, callbacks, history, metrics and resumable checkpoints.

    from gradwise.train import fit, callbacks
    history = fit(model, F.cross_entropy, opt, (X, y), val_data=(Xv, yv), epochs=20,
                  callbacks=[callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    history.history["val_loss"]

This floor sits above nn/ and optim/: models stay plain nn.Modules and the loop is a
function over them (no Model class to subclass); callbacks see the run's state as
`self.trainer`. The learning rate is read and set as `optimizer.lr` and scheduled by an
optim.lr_scheduler passed as fit(..., scheduler=...).

    loop.py        fit and the run's state (Trainer)
    batches.py     (X, y) arrays or a DataLoader as mini-batches in the model's dtype
    evaluation.py  evaluate, predict, and the running loss and metrics of an epoch
    metrics.py     accuracy, precision, recall, f1 from a confusion matrix
    hooks.py       Callback (the hooks) and CallbackList (calls them; closes them at the end)
    callbacks.py   the standard callbacks; history.py the History fit returns
    display.py     LivePlot: History.plot's curves redrawn during a run
    checkpoint.py  save_checkpoint/load_checkpoint: a run that resumes exactly
    monitor.py     the training-health monitor (monitor_stats.py, monitor_report.py)
"""
from . import callbacks, metrics
from .callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ProgressBar, TerminateOnNaN
from .checkpoint import load_checkpoint, save_checkpoint
from .display import LivePlot
from .evaluation import evaluate, predict
from .history import History
from .hooks import Callback, CallbackList
from .loop import Trainer, fit
from .monitor import HealthMonitor, HealthWarning

__all__ = [
    "fit", "evaluate", "predict", "History", "Trainer", "callbacks", "metrics",
    "save_checkpoint", "load_checkpoint", "Callback", "CallbackList", "ProgressBar",
    "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN", "CSVLogger", "LivePlot",
    "HealthMonitor", "HealthWarning",
]
