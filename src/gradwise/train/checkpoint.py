"""Checkpoints that resume a run exactly: model, optimizer, scheduler, epoch and every
generator the training draws from.

    save_checkpoint("run.ckpt", model, opt, sched, epoch=2, data=loader)
    ...                                   # later, in another process
    start = load_checkpoint("run.ckpt", model, opt, sched, data=loader)
    fit(model, loss_fn, opt, loader, epochs=10, initial_epoch=start, scheduler=sched)

The file is a gradwise.save archive (plain .npz, see gradwise.io) holding
{'model', 'optimizer', 'scheduler', 'epoch', 'rng', 'data', **extra}; gradwise.load(path)
reads it as a dict. 'rng' is gradwise's generator (shuffling of (X, y) arrays, dropout,
loaders without a generator of their own); 'data' holds {name: state} of the training data's
own randomness: a DataLoader's own generator= (and a transform's or dataset's that has a
state_dict()), see gradwise.data.random_state. ModelCheckpoint stores fit's train_data and
val_data as 'train' and 'val'. With both restored, the shuffling, augmentation and dropout
masks of the remaining epochs are the ones an uninterrupted run would have drawn. Data that
keeps a generator of its own which it cannot save is refused when saving, naming it.
"""
from __future__ import annotations

import numpy as np

from .. import backend, io
from ..data.loader import prepare_random_state, prepared_load, random_state

_RESERVED = ("model", "optimizer", "scheduler", "epoch", "rng", "data")


def _named(data) -> dict:
    """data as {name: object}: one object is the training data, 'train'."""
    if data is None:
        return {}
    if isinstance(data, dict):
        return data
    return {"train": data}


def data_states(data, who: str = "save_checkpoint") -> dict:
    """{name: random_state(object)} of the data objects (an error for one that keeps a
    generator it cannot save)."""
    return {name: random_state(obj, f"{who}: the {name} data")
            for name, obj in _named(data).items()}


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch: int = 0, data=None,
                    **extra) -> None:
    """Write the full training state to `path` (atomically). `epoch` is the number of epochs
    done, so that fit(..., initial_epoch=epoch) continues with the next one. data: the
    training data (e.g. a DataLoader with its own generator=) or a dict {name: data}, whose
    own randomness is stored. Extra keyword values (numbers, strings, arrays, dicts of them)
    are stored alongside."""
    clash = [k for k in extra if k in _RESERVED]
    if clash:
        raise ValueError(f"save_checkpoint: extra keys {clash} clash with the reserved {_RESERVED}")
    io.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch),
        "rng": backend.get_rng_state(),
        "data": data_states(data),
        **extra,
    }, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng: bool = True,
                    data=None) -> int:
    """Restore what save_checkpoint wrote into the given objects; return the epoch stored.

    data: the training data to restore the own randomness of (as given to save_checkpoint:
    an object, which is 'train', or a dict {name: object}, e.g. {'train': loader, 'val':
    val_loader} for what ModelCheckpoint stored); leave it out to restore the model alone.
    All or nothing: every part (the model's keys and shapes, the optimizer's class, groups and
    buffer shapes, the scheduler's class, the data's and gradwise's generator states) is
    checked before any object changes, so a refused checkpoint leaves them all as they were.
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
    saved = ckpt.get("data") or {}
    for name, obj in _named(data).items():
        loads.append(_prepare_data(path, name, obj, saved.get(name)))
    if restore_rng:
        loads.append(_prepare_rng(path, ckpt.get("rng")))
    # everything was checked: now change the objects, the unchecked ones first (prepared_load)
    for load in sorted(loads, key=lambda f: not getattr(f, "unchecked", False)):
        load()
    return int(ckpt["epoch"])


def _prepare(path, name: str, obj, state):
    """The load of one object's state, checked now where the object can (see prepared_load)."""
    try:
        return prepared_load(obj, state)
    except (ValueError, RuntimeError, KeyError, TypeError) as e:
        raise type(e)(f"load_checkpoint: '{path}': the {name} state does not fit: "
                      f"{e.args[0] if e.args else e}") from e


def _prepare_data(path, name: str, obj, state):
    try:
        return prepare_random_state(obj, state, f"the {name} data")
    except (ValueError, RuntimeError, KeyError, TypeError) as e:
        raise type(e)(f"load_checkpoint: '{path}': {e.args[0] if e.args else e}") from e


def _prepare_rng(path, state):
    """Check a generator state on a scratch generator of the same kind before using it."""
    scratch = np.random.Generator(type(backend.rng().bit_generator)())
    try:
        scratch.bit_generator.state = state
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"load_checkpoint: '{path}': the generator state 'rng' is damaged "
                         f"or of another kind: {e}") from e
    return lambda: backend.set_rng_state(state)
