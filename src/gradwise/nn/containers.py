"""Sequential and ModuleList: containers whose children are registered in order."""
from __future__ import annotations

from collections import OrderedDict

from .conv import MaxPool2d
from .layers import ReLU
from .module import Module


class Sequential(Module):
    """Chains layers: Sequential(Linear(784, 100), ReLU(), Linear(100, 10)).

    Also accepts one OrderedDict of named layers. Indexing gives a layer, slicing a new
    Sequential of the same layers.

    A ReLU followed by a MaxPool2d (conv - relu - pool, as in LeNet-5 and the book's
    SimpleConvNet) runs as pooling, then ReLU: max(ReLU(x) over a window) = ReLU(max of x),
    as ReLU never reorders two numbers, and the gradient reaches the same pixel (or is 0 in
    both orders), so the output and every gradient are the same to the bit, while ReLU and
    its backward touch a quarter of the numbers (SimpleConvNet's training epoch 0.83x of the
    time, its inference 0.77x; benchmarks/README.md). Not when either layer has a forward
    hook, which must see the tensors of the order as written. A model written as a class
    gets the same with relu_pool(relu, pool, Z) in its forward (the book's SimpleConvNet).
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
        layers = list(self._modules.items())
        i = 0
        while i < len(layers):
            if i + 1 < len(layers) and pools_first(layers[i][1], layers[i + 1][1]):
                X = self._call(*layers[i + 1], X)   # ReLU then max pooling, as pooling then
                X = self._call(*layers[i], X)       # ReLU: see the class docstring
                i += 2
            else:
                X = self._call(*layers[i], X)
                i += 1
        return X

    def _call(self, name, layer, X):
        try:
            return layer(X)
        except ValueError as e:  # bad input: say which layer of the stack refused it
            if e.args and isinstance(e.args[0], str):
                e.args = (f"{type(self).__name__} layer '{name}': {e.args[0]}", *e.args[1:])
            raise

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


def pools_first(layer, after) -> bool:
    """Whether `layer` then `after` is a plain ReLU then a plain MaxPool2d, without hooks:
    then after(layer(X)) may run as layer(after(X)) (see Sequential)."""
    return (type(layer) is ReLU and type(after) is MaxPool2d
            and not layer._forward_hooks and not after._forward_hooks)


def relu_pool(relu: Module, pool: Module, Z):
    """pool(relu(Z)), as a model written as a class spells conv - relu - pool; run as
    relu(pool(Z)) where pools_first allows it: the same bits, a quarter of ReLU's work."""
    return relu(pool(Z)) if pools_first(relu, pool) else pool(relu(Z))


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
