"""Checkpoints that resume a run exactly: model, optimizer, scheduler, epoch and the RNG.

    save_checkpoint("run.ckpt", model, opt, sched, epoch=2)
    ...                                   # later, in another process
    start = load_checkpoint("run.ckpt", model, opt, sched)
    fit(model, loss_fn, opt, data, epochs=10, initial_epoch=start, scheduler=sched)

The file is a gradwise.save archive (plain .npz, see gradwise.io) holding
{'model', 'optimizer', 'scheduler', 'epoch', 'rng', **extra}; gradwise.load(path) reads it
as a dict. With the generator state restored, the shuffling and the dropout masks of the
remaining epochs are the ones an uninterrupted run would have drawn.
"""
from __future__ import annotations

from .. import backend, io

_RESERVED = ("model", "optimizer", "scheduler", "epoch", "rng")


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch: int = 0, **extra) -> None:
    """Write the full training state to `path` (atomically). `epoch` is the number of epochs
    done, so that fit(..., initial_epoch=epoch) continues with the next one. Extra keyword
    values (numbers, strings, arrays, dicts of them) are stored alongside."""
    clash = [k for k in extra if k in _RESERVED]
    if clash:
        raise ValueError(f"save_checkpoint: extra keys {clash} clash with the reserved {_RESERVED}")
    io.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch),
        "rng": backend.get_rng_state(),
        **extra,
    }, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng: bool = True) -> int:
    """Restore what save_checkpoint wrote into the given objects; return the epoch stored."""
    ckpt = io.load(path)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "epoch" not in ckpt:
        raise ValueError(f"load_checkpoint: '{path}' is not a checkpoint (no 'model'/'epoch' entry); "
                         f"for a bare state dict use model.load_state_dict(gradwise.load(path))")
    model.load_state_dict(ckpt["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if ckpt.get(name) is None:
            raise ValueError(f"load_checkpoint: '{path}' holds no {name} state to restore")
        obj.load_state_dict(ckpt[name])
    if restore_rng:
        backend.set_rng_state(ckpt["rng"])
    return int(ckpt["epoch"])
