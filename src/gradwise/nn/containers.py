"""Sequential and ModuleList: containers whose children are registered in order."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """Chains layers: Sequential(Linear(784, 100), ReLU(), Linear(100, 10)).

    Also accepts one OrderedDict of named layers. Indexing gives a layer, slicing a new
    Sequential of the same layers.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, layer in layers[0].items():
                self.add_module(name, layer)
        else:
            for i, layer in enumerate(layers):
                if not isinstance(layer, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(layer).__name__}, not a Module")
                self.add_module(str(i), layer)

    def forward(self, X):
        for name, layer in self._modules.items():
            try:
                X = layer(X)
            except ValueError as e:  # bad input: say which layer of the stack refused it
                if e.args and isinstance(e.args[0], str):
                    e.args = (f"{type(self).__name__} layer '{name}': {e.args[0]}", *e.args[1:])
                raise
        return X

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, layer: Module) -> Sequential:
        self.add_module(str(len(self)), layer)
        return self


class ModuleList(Module):
    """A list of layers whose parameters the parent module sees."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        return ModuleList(items[index]) if isinstance(index, slice) else items[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
