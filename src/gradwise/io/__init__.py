"""Saving and loading: gradwise.save(obj, path) and gradwise.load(path), by the file's suffix.

    gradwise.save(model.state_dict(), "model.safetensors")     # a flat {name: array} file
    gradwise.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                   "epoch": 3, "rng": gradwise.get_rng_state()}, "run.ckpt")   # any tree
    state = gradwise.load("model.safetensors")

- `.safetensors`: the format PyTorch and the Hugging Face tools share (io/safetensors.py),
  for a flat dict of arrays such as a state dict; nn.torch_state_dict and
  nn.load_torch_state_dict translate between gradwise's names (W, b, gamma, beta) and
  PyTorch's (weight, bias).
- any other suffix: gradwise's .npz (io/npz.py), for trees of dicts, lists, arrays, numbers
  and strings: checkpoints that hold a model, an optimizer, a schedule and the RNG.

Every file is written atomically (io/files.py); loading never unpickles or runs code, and a
damaged or crafted file raises ValueError naming the path.
"""
from __future__ import annotations

import os

from .files import atomic_write, prepare_output, save_figure
from .npz import MAX_DEPTH, load_npz, save_npz
from .safetensors import load_safetensors, save_safetensors

SAFETENSORS = ".safetensors"


def _is_safetensors(path) -> bool:
    return os.fspath(path).lower().endswith(SAFETENSORS)


def save(obj, path, metadata: dict | None = None) -> None:
    """Write obj to path atomically: a .safetensors file for a flat {name: array} dict
    (metadata: {str: str} kept in its header), gradwise's .npz for anything else."""
    if _is_safetensors(path):
        save_safetensors(obj, path, metadata)
    elif metadata is not None:
        raise TypeError("gradwise.save: metadata= is kept by .safetensors files only; an .npz "
                        "tree can hold it as an entry")
    else:
        save_npz(obj, path)


def load(path):
    """Read what save() wrote: a {name: array} dict from a .safetensors file, the saved tree
    from an .npz (arrays as ndarrays, Tensors as Tensors)."""
    if not os.path.exists(os.fspath(path)):
        raise FileNotFoundError(f"gradwise.load: no such file: '{os.fspath(path)}'")
    return load_safetensors(path) if _is_safetensors(path) else load_npz(path)


__all__ = ["save", "load", "save_npz", "load_npz", "save_safetensors", "load_safetensors",
           "atomic_write", "prepare_output", "save_figure", "MAX_DEPTH"]
