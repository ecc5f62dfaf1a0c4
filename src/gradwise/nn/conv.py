"""Convolutional layers on NCHW images: Conv2d, pooling, padding, BatchNorm2d."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .layers import BatchNorm1d, WeightLayer
from .module import Module


def _pair(v):
    return (v, v) if isinstance(v, (int, np.integer)) else tuple(v)


class Conv2d(WeightLayer):
    """F filters of size f x f over C input channels: W (F, C, f, f), b (F,).

    padding: int, pair, 'valid' or 'same'. init: see WeightLayer (fan_in = C f f).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, init: str = "default", dtype=None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self._make_parameters((self.out_channels, self.in_channels, *self.kernel_size), bias, init, dtype)

    def forward(self, X: Tensor) -> Tensor:
        if X.ndim != 4 or X.shape[1] != self.in_channels:
            raise ValueError(f"{self._name()}: expected input (N, {self.in_channels}, H, W), got {X.shape}")
        return F.conv2d(X, self.W, self.b, self.stride, self.padding, self.dilation)

    def _name(self) -> str:
        return f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size})"

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}"
                + ("" if self.b is not None else ", bias=False"))


class _Pool2d(Module):
    """kernel_size, stride (default: the kernel size, as PyTorch) and padding, ints or pairs."""

    def __init__(self, kernel_size=2, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"
                + (f", padding={self.padding}" if self.padding else ""))


class MaxPool2d(_Pool2d):
    """Max over each window (padding with -inf); the gradient goes to the first maximum."""

    def forward(self, X):
        return F.max_pool2d(X, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each window (padded zeros count, PyTorch's count_include_pad=True)."""

    def forward(self, X):
        return F.avg_pool2d(X, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    """Global average pooling: only output_size (1, 1) is supported."""

    def __init__(self, output_size=(1, 1)):
        super().__init__()
        if _pair(output_size) != (1, 1):
            raise ValueError(f"AdaptiveAvgPool2d: only output_size (1, 1) is supported, got {output_size}")
        self.output_size = (1, 1)

    def forward(self, X):
        return F.global_avg_pool2d(X)


class ZeroPad2d(Module):
    """Pad H and W with zeros (int or (p_h, p_w)), the course's zero_pad as a layer."""

    def __init__(self, padding):
        super().__init__()
        self.padding = padding

    def forward(self, X):
        return F.zero_pad(X, self.padding)

    def extra_repr(self):
        return f"padding={self.padding}"


class BatchNorm2d(BatchNorm1d):
    """Batch norm for images: statistics per channel, over the batch and all pixels
    (not per pixel), with PyTorch's momentum convention."""

    expected_ndim = (4,)
