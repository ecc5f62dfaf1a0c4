"""Transfer learning: reuse a trained network's layers for a new task.

The course's recipe: take a network trained on a large data set, freeze its early layers
(the backbone: generic edges, textures, parts), replace the output layer (the head) with
one for the new classes, and train only the head; with more data, unfreeze more layers.

    model = resnet18(num_classes=1000)
    model.load_state_dict(pretrained, strict=False)   # or a partial dict: the backbone only
    freeze(model)                                     # every parameter: requires_grad False
    replace_head(model, "fc", Linear(512, 5))         # the new head is trainable
    opt = optim.SGD(trainable_parameters(model), lr=0.01)

Frozen parameters get no gradient (grad stays None) and an optimizer skips them. Batch-norm
layers in a frozen backbone still update their running statistics in training mode; call
.eval() on the backbone after model.train() to keep those fixed too.
"""
from __future__ import annotations

from ..nn import Module, Parameter


def freeze(module: Module) -> Module:
    """Stop learning every parameter of module (requires_grad False); returns module."""
    if not isinstance(module, Module):
        raise TypeError(f"freeze: expected a Module, got {type(module).__name__}")
    return module.requires_grad_(False)


def unfreeze(module: Module) -> Module:
    """Learn every parameter of module again (requires_grad True); returns module."""
    if not isinstance(module, Module):
        raise TypeError(f"unfreeze: expected a Module, got {type(module).__name__}")
    return module.requires_grad_(True)


def trainable_parameters(module: Module) -> list[Parameter]:
    """The parameters that still learn, in registration order (what to give an optimizer)."""
    return [p for p in module.parameters() if p.requires_grad]


def _child_key(parent: Module, key, where: str) -> str:
    names = list(parent._modules)
    if isinstance(key, int) or (isinstance(key, str) and key.lstrip("-").isdigit() and key not in names):
        i = int(key)
        if not -len(names) <= i < len(names):
            raise IndexError(f"replace_head: index {i} out of range for {where} "
                             f"({type(parent).__name__} with {len(names)} children)")
        return names[i]
    if key not in names:
        raise KeyError(f"replace_head: {where} ({type(parent).__name__}) has no child {key!r}; "
                       f"its children are {names}")
    return key


def replace_head(model: Module, attr_name_or_index, new_layer: Module) -> Module:
    """Put new_layer where a layer of model is and return the old layer.

    attr_name_or_index: a child's name ("fc"), a dotted path into sub-modules
    ("classifier.6", "classifier.-1" for the last layer of a Sequential), or an int index
    into model's children (for a Sequential model, -1 is the last layer).
    The new layer takes the old one's place in the registration order, so parameters(),
    state_dict() and a Sequential's forward keep their order.
    """
    if not isinstance(new_layer, Module):
        raise TypeError(f"replace_head: new_layer must be a Module, got {type(new_layer).__name__}")
    if isinstance(attr_name_or_index, int):
        path = [attr_name_or_index]
    elif isinstance(attr_name_or_index, str) and attr_name_or_index:
        path = attr_name_or_index.split(".")
    else:
        raise TypeError(f"replace_head: expected a layer name, dotted path or int index, "
                        f"got {attr_name_or_index!r}")
    parent, where = model, type(model).__name__
    for part in path[:-1]:
        name = _child_key(parent, part, where)
        parent, where = parent._modules[name], f"{where}.{name}"
    key = _child_key(parent, path[-1], where)
    old = parent._modules[key]
    # assign in place: Module.__setattr__ would move a re-assigned child to the end
    parent._modules[key] = new_layer
    object.__setattr__(parent, key, new_layer)
    return old


__all__ = ["freeze", "unfreeze", "trainable_parameters", "replace_head"]
