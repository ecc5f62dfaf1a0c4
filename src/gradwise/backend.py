"""The bottom floor: which array module we compute with, the default dtype, and the one RNG.

Every other module asks this one for `xp` (NumPy today; the name leaves room for CuPy),
for the default floating dtype, and for random numbers. Keeping the generator here is what
makes `gradwise.manual_seed(n)` reproduce a whole run.
"""
from __future__ import annotations

import numpy as np

xp = np

_default_dtype = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats and of random draws (float32)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Change the default floating dtype, e.g. to float64 for precision experiments."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the one generator every random draw in gradwise goes through; returns it."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def rng() -> np.random.Generator:
    """The current global generator (replaced, not mutated, by manual_seed)."""
    return _rng


def get_rng_state() -> dict:
    """The generator's full state, as plain data (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state taken by get_rng_state, so the next draws repeat exactly."""
    _rng.bit_generator.state = state
