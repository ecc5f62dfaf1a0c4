"""Module and Parameter: networks as trees of layers that own their weights.

A Module registers, in attribute-assignment order, its Parameters (learnable tensors), its
buffers (state that is saved but not learned, such as batch norm's running mean) and its
sub-modules. Everything else (parameters(), state_dict(), train()/eval(), summary()) walks
that tree, so the order is the same on every run.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator

import numpy as np

from .. import viz
from ..autograd import no_grad
from ..tensor import Tensor, to_numpy


class Parameter(Tensor):
    """A Tensor that a Module learns: requires_grad=True unless said otherwise.

    An ndarray (or a Tensor's array) is used as is, without a copy, as torch.nn.Parameter
    shares its tensor's storage; Python numbers and lists follow gradwise.tensor's dtype
    rule (floats become the default dtype, float32).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        data = data.data if isinstance(data, Tensor) else data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and networks (PyTorch's nn.Module surface)."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration -------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        # Reassigning a name keeps its place (dicts keep a key's position on update), so
        # replacing a layer does not reorder forward(), parameters() or state_dict().
        if isinstance(value, Parameter):
            table = self._parameters
        elif isinstance(value, Module):
            table = self._modules
        elif name in self._buffers:
            table = self._buffers  # reassigning a buffer keeps it a buffer
            if value is not None and not isinstance(value, Tensor):
                value = Tensor(np.asarray(value))
        elif name in self._parameters and value is None:
            table = self._parameters  # e.g. Linear(bias=False) keeps b = None
        else:
            table = None
        for other in (self._parameters, self._buffers, self._modules):
            if other is not table:
                other.pop(name, None)
        if table is not None:
            table[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value, persistent: bool = True) -> None:
        """State saved in state_dict but not learned (e.g. running statistics)."""
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(np.asarray(value))
        self._buffers[name] = value
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, value)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    # ---- calling ------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, inputs, output) runs after forward; return a value to replace output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---- walking the tree ---------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) in registration order; a parameter shared by two layers once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in modules:
            for pname, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for mname, m in self.named_modules(prefix):
            for bname, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every sub-module, children first, then self (as PyTorch)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch statistics) for this module and all below."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    @contextlib.contextmanager
    def evaluating(self):
        """Eval mode inside the block; each module's own mode restored after it, also on error.

            with model.evaluating(), no_grad():
                logits = model(X)

        Each module gets its own mode back (a frozen BatchNorm stays in eval mode inside a
        model that trains), which model.train(was_training) would not do."""
        modes = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            yield self
        finally:
            for m, mode in modes:
                object.__setattr__(m, "training", mode)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = np.zeros_like(p.data)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter, e.g. a backbone in transfer learning."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ---- state --------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameters and persistent buffers by dotted name, as copied arrays."""
        state = OrderedDict()
        for mname, m in self.named_modules():
            for table, skip in ((m._parameters, ()), (m._buffers, m._non_persistent)):
                for k, v in table.items():
                    if v is not None and k not in skip:
                        state[f"{mname}.{k}" if mname else k] = v.data.copy()
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers of the same names.

        strict=True raises on missing or unexpected keys; strict=False loads what matches
        (e.g. a backbone into a model with a new head) and returns both lists.
        A shape mismatch is always an error, naming the key and both shapes. Errors are
        RuntimeErrors, as in PyTorch, and are raised before anything is copied: a failed
        load leaves the model as it was.
        """
        return self._prepare_load(state_dict, strict)()

    def _prepare_load(self, state_dict, strict: bool = True):
        """Check state_dict against the model without changing anything; return the function
        that copies it in (load_checkpoint checks everything before loading anything)."""
        own = OrderedDict()
        for mname, m in self.named_modules():
            for table, skip in ((m._parameters, ()), (m._buffers, m._non_persistent)):
                for k, v in table.items():
                    if v is not None and k not in skip:
                        own[f"{mname}.{k}" if mname else k] = v
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            value = state_dict[k]
            values[k] = value = to_numpy(value)
            if value.shape != target.shape:
                raise RuntimeError(
                    f"{type(self).__name__}.load_state_dict: '{k}' has shape {value.shape} in the "
                    f"state dict but {target.shape} in the model"
                )
            if not np.can_cast(value.dtype, target.dtype, casting="same_kind"):
                raise RuntimeError(
                    f"{type(self).__name__}.load_state_dict: '{k}' has dtype {value.dtype} in the "
                    f"state dict, which does not convert to the model's {target.dtype}"
                )

        def load() -> IncompatibleKeys:
            with no_grad():
                for k, value in values.items():
                    own[k].data[...] = value
            return IncompatibleKeys(missing, unexpected)
        return load

    def num_parameters(self, trainable_only: bool = False) -> int:
        return int(sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only))

    # ---- display ------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self.named_children())
        if not children:
            return lines[0] + ")"
        for name, m in children:
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def plot(self, input_shape, path=None, dtype=None, backward: bool = False):
        """The computational graph of one forward pass on zeros of shape (1, *input_shape),
        parameters named as in named_parameters(): a gradwise.viz.DotGraph, also written to
        path when given (.svg/.png/.pdf with Graphviz, or .dot). In a notebook it draws itself."""
        graph = viz.model_graph(self, input_shape, dtype=dtype, backward=backward)
        if path is not None:
            graph.save(path)
        return graph

    def summary(self, input_shape, dtype=None, print_fn="auto") -> str:
        """Keras-style table: each layer's output shape and parameter count (see
        gradwise.nn.summary). Printed with print_fn (print; "auto": print, except in a
        notebook, where the returned table shows itself as HTML); returns the text."""
        from .summary import summarize

        table = summarize(self, input_shape, dtype=dtype)
        if print_fn == "auto":
            print_fn = None if viz.in_notebook() else print
        if print_fn is not None:
            print_fn(table)
        return table


class RemovableHandle:
    _next_id = 0

    def __init__(self, table):
        self.table = table
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.table.pop(self.id, None)
