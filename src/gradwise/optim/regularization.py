"""Weight penalties a user adds to the loss: the course's explicit L2 cost term and L1.

    loss = F.cross_entropy(model(X), y) + optim.l2_penalty(model, lambd=0.7, m=len(X))
    loss.backward()       # dW gains (lambd / m) W: "weight decay"

    l2_penalty  = lambd / (2m) * sum over weights of ||W||_F^2     (the course's cost term)
    l1_penalty  = lambd / m    * sum over weights of sum |W|       gradient (lambd / m) sign(W)

m is the number of examples the data term averages over (the mini-batch size when the loss is
a batch mean; the course writes the full-batch cost). Both are differentiable Tensors built
from gradwise ops, so they join the graph like any loss term.

Which parameters are weights: given a Module, every parameter with 2 or more dimensions
(Linear's W, convolution kernels); biases and batch norm's gamma/beta (1-D) are excluded,
as in the course and in Keras' kernel_regularizer. Given an iterable of Tensors, all of them.
Frozen parameters (requires_grad=False) are skipped.

The same L2 as a gradient term is weight_decay in the optimizers: with SGD and lr alpha,
l2_penalty(lambd, m) equals SGD(weight_decay=lambd / m) (tests check both give the same step).
Some texts scale L1 by lambd / (2m) instead: the scale is a convention,
absorbed by lambd; Keras' regularizers.l1(l) is l * sum |W| (l = lambd / m here).
"""
from __future__ import annotations

from ..tensor import Tensor


def weights_of(params) -> list[Tensor]:
    """The tensors a penalty applies to: a Module's trainable weights with ndim >= 2, or the
    trainable tensors of an iterable as given."""
    from ..nn.module import Module  # the same floor; imported here to keep optim light

    if isinstance(params, Module):
        chosen = [p for p in params.parameters() if p.ndim >= 2]
    elif isinstance(params, Tensor):
        chosen = [params]
    else:
        chosen = list(params)
        for i, p in enumerate(chosen):
            if not isinstance(p, Tensor):
                raise TypeError(f"penalty: item {i} is a {type(p).__name__}, not a Tensor")
    return [p for p in chosen if p.requires_grad]


def _check(name, lambd, m):
    if lambd < 0:
        raise ValueError(f"{name}: lambd must be >= 0, got {lambd}")
    if int(m) != m or m <= 0:
        raise ValueError(f"{name}: m (the number of examples) must be a positive integer, got {m!r}")


def l2_penalty(params, lambd: float, m: int) -> Tensor:
    """lambd / (2m) * sum ||W||^2 over the weights of `params` (a Module or Tensors)."""
    _check("l2_penalty", lambd, m)
    ws = weights_of(params)
    if not ws:
        raise ValueError("l2_penalty: no trainable weights to penalize (biases and 1-D "
                         "parameters of a Module are excluded)")
    total = sum((W * W).sum() for W in ws)
    return total * (lambd / (2.0 * m))


def l1_penalty(params, lambd: float, m: int) -> Tensor:
    """lambd / m * sum |W| over the weights of `params` (a Module or Tensors)."""
    _check("l1_penalty", lambd, m)
    ws = weights_of(params)
    if not ws:
        raise ValueError("l1_penalty: no trainable weights to penalize (biases and 1-D "
                         "parameters of a Module are excluded)")
    total = sum(W.abs().sum() for W in ws)
    return total * (lambd / m)
