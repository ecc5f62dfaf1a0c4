"""Sliding windows, and their convolutional implementation (OverFeat; the course, week 3).

A classifier of w x w crops can detect by sliding: run it on every crop of a larger image,
at a stride s. Done crop by crop, the crops' shared pixels are recomputed each time. Turned
into an all-convolutional network, it runs once on the whole image and gives the same
numbers for every window at once:

    FC n after a volume h x w x C    ->  CONV h x w, n filters   (W reshaped (n, C, h, w))
    FC n after FC                    ->  CONV 1 x 1, n filters
    softmax over features            ->  softmax over channels

On a w x w crop the converted network outputs (1, n, 1, 1), the same numbers as the
classifier; on a larger image it outputs (1, n, H_out, W_out), where output (i, j) is the
classifier's answer for the crop at rows i s .. i s + w, columns j s .. j s + w, with s the
product of the strides before the first FC layer (the window stride).
"""
from __future__ import annotations

import copy

import numpy as np

from ...autograd import no_grad
from ...nn import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from ...ops.conv import out_size
from ...tensor import Tensor, to_numpy

__all__ = ["convolutionalize", "window_stride", "sliding_windows"]

_ELEMENTWISE = (ReLU, LeakyReLU, Sigmoid, Tanh, Softplus, Dropout, Identity)


def _unpadded(layer) -> bool:
    p = layer.padding
    return p == "valid" or np.all(np.asarray(p) == 0)


def _check_spatial(layer, k: int) -> None:
    if isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)):
        if not _unpadded(layer):
            raise ValueError(f"convolutionalize: layer {k} ({layer!r}) pads its input; padding makes "
                             f"a window's border differ from the big image's interior, so the "
                             f"sliding-window equivalence needs unpadded layers")
    elif not isinstance(layer, _ELEMENTWISE + (BatchNorm2d,)):
        raise ValueError(f"convolutionalize: cannot slide layer {k} ({type(layer).__name__}) before "
                         f"Flatten: use convolutions, pooling, batch norm and activations")


def window_stride(model: Sequential) -> int:
    """The stride between neighbouring windows: the product of the strides of the layers
    before the first Flatten (a conv's stride, a pool's stride or kernel size)."""
    s = 1
    for layer in model:
        if isinstance(layer, Flatten):
            break
        if isinstance(layer, Conv2d):
            st = layer.stride
        elif isinstance(layer, (MaxPool2d, AvgPool2d)):
            st = layer.stride if layer.stride is not None else layer.kernel_size
        else:
            continue
        st = tuple(np.broadcast_to(np.asarray(st), (2,)).tolist())
        if st[0] != st[1]:
            raise ValueError(f"window_stride: layer {layer!r} has different strides along H and W")
        s *= int(st[0])
    return s


def convolutionalize(model: Sequential, input_shape) -> Sequential:
    """The all-convolutional equivalent of a classifier `model` of inputs (C, h, w):
    Sequential(spatial layers..., Flatten, Linear/activation layers...). Spatial layers are
    copied; each Linear becomes a Conv2d with the same weights (see the module docstring);
    softmax and log-softmax move to the channel axis; BatchNorm1d becomes a BatchNorm2d
    with the same parameters and statistics. The result shares nothing with `model`.
    Compare the two in eval mode (dropout and batch statistics differ in training)."""
    layers = list(model)
    cut = next((k for k, layer in enumerate(layers) if isinstance(layer, Flatten)), None)
    if cut is None:
        raise ValueError("convolutionalize: the model has no Flatten layer before its FC layers")
    for k, layer in enumerate(layers[:cut]):
        _check_spatial(layer, k)
    spatial = [copy.deepcopy(layer) for layer in layers[:cut]]
    with no_grad():
        probe = Sequential(*spatial).eval()(Tensor(np.zeros((1, *input_shape), dtype=np.float32)
                                                   .astype(_dtype(model))))
    C, h, w = probe.shape[1:]
    out, first = spatial, True
    for k, layer in enumerate(layers[cut + 1:], start=cut + 1):
        if isinstance(layer, Linear):
            kernel = (h, w) if first else (1, 1)
            conv = Conv2d(layer.in_features // (kernel[0] * kernel[1]), layer.out_features, kernel,
                          bias=layer.b is not None, dtype=layer.W.dtype)
            if conv.in_channels * kernel[0] * kernel[1] != layer.in_features:
                raise ValueError(f"convolutionalize: layer {k} ({layer!r}) takes {layer.in_features} "
                                 f"features, but the volume before it is {C} x {h} x {w}")
            conv.W.data[...] = layer.W.data.reshape(conv.W.shape)
            if layer.b is not None:
                conv.b.data[...] = layer.b.data
            out.append(conv)
            first = False
        elif isinstance(layer, (Softmax, LogSoftmax)):
            if layer.axis not in (-1, 1):
                raise ValueError(f"convolutionalize: layer {k} normalizes over axis {layer.axis}, "
                                 f"not the features")
            out.append(type(layer)(axis=1))
        elif isinstance(layer, BatchNorm1d) and not isinstance(layer, BatchNorm2d):
            bn = BatchNorm2d(layer.num_features, layer.eps, layer.momentum)
            bn.load_state_dict(layer.state_dict())
            out.append(bn)
        elif isinstance(layer, _ELEMENTWISE):
            out.append(copy.deepcopy(layer))
        else:
            raise ValueError(f"convolutionalize: cannot convert layer {k} ({type(layer).__name__}) "
                             f"after Flatten")
    return Sequential(*out)


def _dtype(model):
    return next((p.dtype for p in model.parameters()), np.float32)


def sliding_windows(model, X, window, stride: int) -> np.ndarray:
    """The classifier run crop by crop, the slow way: for images X (N, C, H, W) and a
    window (h, w) (or an int), the outputs (N, K, H_out, W_out) of `model` on every crop
    X[:, :, i s : i s + h, j s : j s + w]. What convolutionalize computes in one pass."""
    X = to_numpy(X)
    h, w = (window, window) if np.isscalar(window) else tuple(window)
    N, _, H, W = X.shape
    if h > H or w > W:
        raise ValueError(f"sliding_windows: a {h}x{w} window does not fit images of {H}x{W}")
    Ho, Wo = out_size(H, h, stride, pad_total=0), out_size(W, w, stride, pad_total=0)
    crops = np.stack([X[:, :, i * stride:i * stride + h, j * stride:j * stride + w]
                      for i in range(Ho) for j in range(Wo)], axis=1)       # (N, Ho Wo, C, h, w)
    with no_grad():
        scores = model(Tensor(crops.reshape(N * Ho * Wo, *crops.shape[2:]))).data
    return scores.reshape(N, Ho, Wo, -1).transpose(0, 3, 1, 2)
