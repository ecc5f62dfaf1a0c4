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

import numpy as np

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
    """Restore what save_checkpoint wrote into the given objects; return the epoch stored.

    All or nothing: every part (the model's keys and shapes, the optimizer's class, groups and
    buffer shapes, the scheduler's class, the generator state) is checked before any object
    changes, so a refused checkpoint leaves the model, optimizer and scheduler as they were.
    """
    ckpt = io.load(path)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "epoch" not in ckpt:
        raise ValueError(f"load_checkpoint: '{path}' is not a checkpoint (no 'model'/'epoch' entry); "
                         f"for a bare state dict use model.load_state_dict(gradwise.load(path))")
    loads = [_prepare(path, "model", model, ckpt["model"])]
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if ckpt.get(name) is None:
            raise ValueError(f"load_checkpoint: '{path}' holds no {name} state to restore")
        loads.append(_prepare(path, name, obj, ckpt[name]))
    if restore_rng:
        loads.append(_prepare_rng(path, ckpt.get("rng")))
    # everything was checked: now change the objects, the unchecked ones first (see _prepare)
    for load in sorted(loads, key=lambda f: not getattr(f, "unchecked", False)):
        load()
    return int(ckpt["epoch"])


def _prepare(path, name: str, obj, state):
    """The checked load of one object's state, as a function to call once all are checked.
    gradwise's classes check without changing anything (_prepare_load); another object with
    only load_state_dict is loaded when the checked ones are, first, so that if it refuses
    its state nothing of gradwise's has changed yet."""
    prepare = getattr(obj, "_prepare_load", None)
    if prepare is None:
        def load():
            obj.load_state_dict(state)
        load.unchecked = True
        return load
    try:
        return prepare(state)
    except (ValueError, RuntimeError, KeyError, TypeError) as e:
        raise type(e)(f"load_checkpoint: '{path}': the {name} state does not fit: "
                      f"{e.args[0] if e.args else e}") from e


def _prepare_rng(path, state):
    """Check a generator state on a scratch generator of the same kind before using it."""
    scratch = np.random.Generator(type(backend.rng().bit_generator)())
    try:
        scratch.bit_generator.state = state
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"load_checkpoint: '{path}': the generator state 'rng' is damaged "
                         f"or of another kind: {e}") from e
    return lambda: backend.set_rng_state(state)
