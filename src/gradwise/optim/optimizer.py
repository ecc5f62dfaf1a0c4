"""The Optimizer base: parameter groups, per-parameter state, state_dict round trips.

An optimizer holds `param_groups`, a list of dicts {'params': [Tensor, ...], 'lr': ..., ...}
(one group unless the user passes several, e.g. a smaller lr for a pretrained backbone), and
`state`, a dict from each parameter to its own buffers (velocity, squared-gradient average,
step count). `optimizer.lr` reads the groups' common learning rate and sets every group's.
Subclasses write one method, `_update(p, g, state, group)`, the update of one
parameter as the course writes it; the base class walks the groups, skips parameters that
are frozen or got no gradient, and keeps the buffers in place (`v *= beta; v += ...`), so a
step allocates nothing it does not have to.

state_dict() has PyTorch's layout, with parameters replaced by their position across groups,
plus the optimizer's class name:
    {'class': 'Adam', 'state': {0: {'step': 3, 'exp_avg': array, ...}, 1: {...}},
     'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999), ..., 'params': [0, 1]}]}
so it can be saved with gradwise.save and loaded into an optimizer built the same way;
another optimizer's state is refused (one without 'class', from older files, is refused when
its hyperparameters are not this optimizer's).
"""
from __future__ import annotations

import copy
import math

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class: Optimizer(params, defaults) with params an iterable of Tensors or of dicts
    (param groups: {'params': [...], **hyperparameters overriding the defaults})."""

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or of "
                            f"dicts, got a single Tensor (wrap it in a list)")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones: defaults)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a param group is a dict with a 'params' entry")
        group = dict(group)
        ps = group["params"]
        ps = [ps] if isinstance(ps, Tensor) else list(ps)
        for i, p in enumerate(ps):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, "
                                f"not a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} has dtype {p.dtype}; "
                                f"only floating-point tensors can be optimized")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in ps) or len({id(p) for p in ps}) != len(ps):
            raise ValueError(f"{type(self).__name__}: a parameter appears in more than one group "
                             f"(or twice in one)")
        group["params"] = ps
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Validate the hyperparameters of a group (subclasses extend it)."""
        lr = group["lr"]
        if not isinstance(lr, (int, float, np.floating)) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be a non-negative number, got {lr!r}")
        if group.get("weight_decay", 0.0) < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0, "
                             f"got {group['weight_decay']}")

    # ---- the learning rate -----------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate of the param groups, which must agree (groups with their own lr:
        read param_groups[i]['lr']). Setting it sets every group's lr."""
        lrs = [g["lr"] for g in self.param_groups]
        if any(lr != lrs[0] for lr in lrs):
            raise ValueError(f"{type(self).__name__}.lr: the param groups have different learning "
                             f"rates {lrs}: read param_groups[i]['lr'] for one group")
        return float(lrs[0])

    @lr.setter
    def lr(self, lr: float) -> None:
        self._check_group({**self.param_groups[0], "lr": lr})  # checked before any group changes
        for group in self.param_groups:
            group["lr"] = lr

    # ---- one step ------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (None, as PyTorch's default; or zero arrays in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that requires grad and has a gradient.

        closure: an optional function that re-evaluates the model and returns the loss
        (PyTorch's interface); it is called first, with gradients enabled, and its loss returned.
        """
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None or not p.requires_grad:
                    continue
                if g.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}.step: a parameter of shape {p.shape} "
                                     f"has a gradient of shape {g.shape}")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                self._update(p.data, g, state, group)
        return loss

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        """Update the array w in place from its gradient g (never modify g: it is the user's)."""
        raise NotImplementedError

    # ---- state ---------------------------------------------------------------------------
    def _index(self) -> dict:
        return {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}

    def state_dict(self) -> dict:
        """{'class': 'Adam', 'state': {index: {name: array or number}},
        'param_groups': [{..., 'params': [index]}]} with copies of the buffers (later steps do
        not change a taken state dict)."""
        index = self._index()
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"class": type(self).__name__, "state": state, "param_groups": copy.deepcopy(groups)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and buffers saved by state_dict() of the same optimizer
        class, built over parameters of the same shapes in the same order; buffers take each
        parameter's dtype. Everything is checked before anything changes: a refused state
        leaves the optimizer as it was."""
        self._prepare_load(state_dict)()

    # the hyperparameters a scheduler adds to the groups (not the optimizer's own)
    _ADDED_KEYS = frozenset({"params", "initial_lr"})

    def _prepare_load(self, state_dict: dict):
        """Check state_dict against this optimizer without changing anything; return the
        function that loads it (load_checkpoint checks everything before loading anything)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups', got {type(state_dict).__name__}")
        saved_class = state_dict.get("class")
        if saved_class is not None and saved_class != name:
            raise ValueError(f"{name}.load_state_dict: the state is a {saved_class} optimizer's, "
                             f"this optimizer is a {name}: build a {saved_class} to load it")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(saved_groups)} param "
                             f"groups, this optimizer {len(self.param_groups)}")
        new_groups = []
        for i, (sg, g) in enumerate(zip(saved_groups, self.param_groups)):
            if len(sg["params"]) != len(g["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i} has {len(sg['params'])} "
                                 f"parameters in the state, {len(g['params'])} here")
            if saved_class is None:  # a state from before the class was stored: its keys tell
                theirs, ours = set(sg) - self._ADDED_KEYS, set(g) - self._ADDED_KEYS
                if theirs != ours:
                    raise ValueError(f"{name}.load_state_dict: the state's hyperparameters "
                                     f"{sorted(theirs)} are not a {name}'s {sorted(ours)}: it "
                                     f"comes from another optimizer")
            new = dict(g)
            new.update({k: tuple(v) if isinstance(v, list) else v
                        for k, v in sg.items() if k != "params"})
            self._check_group(new)
            new_groups.append(new)
        by_index = {i: p for sg, g in zip(saved_groups, self.param_groups)
                    for i, p in zip(sg["params"], g["params"])}
        new_state = {}
        for i, buffers in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, which no "
                                 f"group lists")
            entry = {}
            for k, v in buffers.items():
                if isinstance(v, (np.ndarray, Tensor)):
                    v = v.data if isinstance(v, Tensor) else v
                    if v.shape != p.shape and v.size != 1:
                        raise ValueError(f"{name}.load_state_dict: buffer '{k}' of parameter {i} "
                                         f"has shape {v.shape}, the parameter {p.shape}")
                    v = np.array(v, dtype=p.dtype if v.shape == p.shape else v.dtype)
                entry[k] = v
            new_state[p] = entry

        def load() -> None:
            for g, new in zip(self.param_groups, new_groups):
                g.update(new)
            self.state = new_state
        return load

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in g.items() if k != "params"]
        return "\n".join(lines) + "\n)"
