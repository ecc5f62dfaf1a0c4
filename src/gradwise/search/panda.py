"""Panda: babysit one model (the course's strategy when you can train only one at a time).

    result = babysit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.5),
                     (X, y), (X_dev, y_dev), epochs=30, directory="runs/panda")
    result.events        # ['epoch 4: val_loss 2.31 > 1.5 x best 0.41: rolled back to epoch 3, lr 0.5 -> 0.15', ...]

Every epoch is checkpointed (model, optimizer, scheduler and the generator: see
gradwise.train.save_checkpoint), so the run can be watched and steered while it trains:

- by hand: `directory/control.json` holds {"lr": ..., "stop": false}; edit it while the
  model trains and the new learning rate applies from the next epoch ("stop": true ends the
  run after the current epoch). The file is rewritten with the learning rate in force
  whenever babysit changes it.
- automatically: an epoch whose loss turned NaN/inf, or whose monitored value is more than
  `divergence` times the best so far, is rolled back to the best checkpoint and the learning
  rate multiplied by `lr_factor` (a panda mother nudging her one cub back on track).

A planned schedule is an lr scheduler (scheduler=, gradwise.optim.lr_scheduler), stepped by
fit once per epoch and checkpointed with the rest; callbacks= go to fit as they are.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..io import atomic_write
from ..train import Callback, evaluate, fit, load_checkpoint, save_checkpoint

__all__ = ["babysit", "BabysitResult"]


class _StopOnNaN(Callback):
    """Stop the epoch at a NaN/inf loss (fit applies no update with it) so it can be rolled back."""

    diverged = False

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.diverged = True
            self.trainer.stop_training = True


@dataclass
class BabysitResult:
    """epochs: one dict per epoch trained (also the rolled-back ones) with 'epoch' (1-based),
    'lr', the fit logs and 'action' ('kept', 'rolled back'); events: what babysit did, in
    words; best_epoch and best_path: the best checkpoint (the model ends with its weights
    when restore_best is on)."""

    epochs: list = field(default_factory=list)
    events: list = field(default_factory=list)
    best_epoch: int = 0
    best_value: float = math.inf
    best_path: str | None = None


class _Control:
    """The hand-edited control file: {"lr": float, "stop": bool}."""

    def __init__(self, path: Path):
        self.path, self.text = path, None

    def write(self, lr: float) -> None:
        text = json.dumps({"lr": lr, "stop": False}) + "\n"
        atomic_write(self.path, lambda f: f.write(text.encode()))
        self.text = text

    def read(self) -> dict:
        """The file's settings if it changed since it was last read or written, else {}."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        if text == self.text:
            return {}
        self.text = text
        try:
            d = json.loads(text)
            lr = d.get("lr")
            if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
                raise ValueError(f"lr must be a positive number, got {lr!r}")
            return {"lr": lr, "stop": bool(d.get("stop", False))}
        except (ValueError, AttributeError) as e:  # half-edited file: keep going, say so
            return {"error": f"{self.path.name} not applied ({e})"}


def babysit(model, loss_fn, optimizer, train, dev=None, epochs: int = 10, directory="panda", *,
            monitor: str | None = None, divergence: float = 1.5, lr_factor: float = 0.3,
            max_rollbacks: int = 5, scheduler=None, callbacks=None, batch_size: int | None = None,
            metrics=("accuracy",), seed: int | None = 0, restore_best: bool = True,
            verbose: int = 1, print_fn=print) -> BabysitResult:
    """Train one model epoch by epoch, checkpointing, rolling back and changing the learning
    rate as it goes (see the module docstring).

    monitor: the value watched for divergence and for the best checkpoint ('val_loss' when
        there is dev data, else 'loss'); lower is better.
    divergence: roll back an epoch whose monitored value exceeds divergence x the best so far.
    lr_factor: the learning rate is multiplied by this at each rollback.
    max_rollbacks: give up (stop) after this many rollbacks.
    scheduler: an lr scheduler, stepped by fit once per epoch (see fit).
    callbacks: more fit callbacks, called in every epoch babysit trains (rolled-back ones too).
    batch_size: as fit's (for (X, y) arrays; a DataLoader batches itself).
    restore_best: end with the best checkpoint's weights.
    """
    if not divergence > 1 or not 0 < lr_factor < 1:
        raise ValueError(f"babysit: need divergence > 1 and 0 < lr_factor < 1, got {divergence}, {lr_factor}")
    monitor = monitor or ("val_loss" if dev is not None else "loss")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    control = _Control(directory / "control.json")
    control.write(optimizer.lr)
    result = BabysitResult()

    def say(msg):
        result.events.append(msg)
        if verbose:
            print_fn(f"panda: {msg}")

    # the starting point is the first fallback, with its own loss as the value to beat: an
    # epoch 1 that makes things far worse than the untrained model is rolled back too
    result.best_path = str(directory / "epoch-000.npz")
    save_checkpoint(result.best_path, model, optimizer, scheduler, epoch=0)
    if monitor in ("loss", "val_loss"):
        start = evaluate(model, loss_fn, dev if monitor == "val_loss" else train,
                         batch_size=batch_size, metrics=())["loss"]
        result.best_value = start if math.isfinite(start) else math.inf
    epoch, rollbacks, first = 0, 0, True
    while epoch < epochs:
        settings = control.read()
        if "error" in settings:
            say(settings["error"])
        if settings.get("lr") is not None and settings["lr"] != optimizer.lr:
            say(f"epoch {epoch + 1}: lr {optimizer.lr:g} -> {settings['lr']:g} (control file)")
            optimizer.lr = float(settings["lr"])
        if settings.get("stop"):
            say(f"epoch {epoch + 1}: stopped by the control file")
            break
        lr = optimizer.lr
        guard = _StopOnNaN()
        h = fit(model, loss_fn, optimizer, train, val_data=dev, epochs=epoch + 1, initial_epoch=epoch,
                batch_size=batch_size, metrics=metrics, scheduler=scheduler, verbose=0,
                seed=seed if first else None, callbacks=[guard, *(callbacks or [])])
        first = False
        logs = {k: v[-1] for k, v in h.history.items()} if h.epoch else {}
        value = logs.get(monitor, math.nan)
        if not guard.diverged and monitor not in logs:
            raise KeyError(f"babysit: '{monitor}' is not in the epoch logs {sorted(logs)}")
        if guard.diverged or not math.isfinite(value) or value > divergence * result.best_value:
            why = ("the loss became NaN/inf" if guard.diverged or not math.isfinite(value)
                   else f"{monitor} {value:.4g} > {divergence:g} x best {result.best_value:.4g}")
            result.epochs.append({"epoch": epoch + 1, "lr": lr, **logs, "action": "rolled back"})
            rollbacks += 1
            if rollbacks > max_rollbacks:
                say(f"epoch {epoch + 1}: {why}; {max_rollbacks} rollbacks already: giving up")
                break
            bad = epoch + 1
            epoch = load_checkpoint(result.best_path, model, optimizer, scheduler)
            new_lr = lr * lr_factor
            optimizer.lr = new_lr
            control.write(new_lr)
            say(f"epoch {bad}: {why}: rolled back to epoch {epoch}, lr {lr:g} -> {new_lr:g}")
            continue
        epoch += 1
        path = str(directory / f"epoch-{epoch:03d}.npz")
        save_checkpoint(path, model, optimizer, scheduler, epoch=epoch)
        result.epochs.append({"epoch": epoch, "lr": lr, **logs, "action": "kept"})
        if value < result.best_value:
            result.best_epoch, result.best_value, result.best_path = epoch, value, path
        if verbose:
            print_fn(f"panda: epoch {epoch}/{epochs}  lr {lr:.3g}  " +
                     "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "lr"))
    if restore_best and result.best_epoch:
        load_checkpoint(result.best_path, model, restore_rng=False)
        say(f"restored the best checkpoint: epoch {result.best_epoch} ({monitor} {result.best_value:.4g})")
    return result
