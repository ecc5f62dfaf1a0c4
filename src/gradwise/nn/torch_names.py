"""PyTorch's state-dict names for gradwise's modules, both ways.

gradwise names parameters as the course does (W and b of Linear and Conv2d, gamma and beta of
batch norm); PyTorch names them weight and bias. A model built with the same modules in the
same order (the same Sequential indices and attribute names) has the same keys otherwise:

    gw.save(nn.torch_state_dict(model), "model.safetensors")   # torch.nn.Module.load_state_dict
    nn.load_torch_state_dict(model, torch_model.state_dict())  # a torch model's weights in

Each module class lists its renamings in TORCH_NAMES ({gradwise name: torch name}).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .module import IncompatibleKeys, Module


def _split(key: str) -> tuple[str, str]:
    head, _, leaf = key.rpartition(".")
    return head, leaf


def _renamings(model: Module) -> dict[str, dict[str, str]]:
    """{module path: its TORCH_NAMES} for every module of the model."""
    return {name: getattr(type(m), "TORCH_NAMES", {}) for name, m in model.named_modules()}


def torch_state_dict(model: Module) -> OrderedDict[str, np.ndarray]:
    """model.state_dict() under PyTorch's names (weight/bias for W/b and gamma/beta)."""
    names = _renamings(model)
    out = OrderedDict()
    for key, value in model.state_dict().items():
        head, leaf = _split(key)
        leaf = names.get(head, {}).get(leaf, leaf)
        out[f"{head}.{leaf}" if head else leaf] = value
    return out


def _to_numpy(value) -> np.ndarray:
    """An array from a NumPy array or a torch tensor (without importing torch)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def from_torch_names(model: Module, state) -> OrderedDict[str, np.ndarray]:
    """A state dict with PyTorch's names (torch tensors or arrays) under gradwise's names."""
    back = {path: {t: g for g, t in table.items()} for path, table in _renamings(model).items()}
    out = OrderedDict()
    for key, value in state.items():
        head, leaf = _split(key)
        leaf = back.get(head, {}).get(leaf, leaf)
        out[f"{head}.{leaf}" if head else leaf] = _to_numpy(value)
    return out


def load_torch_state_dict(model: Module, state, strict: bool = True) -> IncompatibleKeys:
    """Load a state dict with PyTorch's names (e.g. torch_model.state_dict(), or a
    .safetensors file saved from PyTorch) into the gradwise model; strict as load_state_dict."""
    return model.load_state_dict(from_torch_names(model, state), strict=strict)
