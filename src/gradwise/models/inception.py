"""Inception (GoogLeNet, Szegedy et al., 2015): let the network use every filter size at once.

An inception module runs four branches on the same input and stacks their outputs along the
channels; every branch keeps height and width ('same' padding, stride 1):

    1x1 CONV -> ch1x1
    1x1 CONV -> ch3x3_reduce, 3x3 CONV same -> ch3x3
    1x1 CONV -> ch5x5_reduce, 5x5 CONV same -> ch5x5
    3x3 MAX-POOL s=1 same, 1x1 CONV -> pool_proj
    -> concatenate: ch1x1 + ch3x3 + ch5x5 + pool_proj channels

The 1x1 "bottleneck" convolutions make it affordable. The course's example, on a
28 x 28 x 192 input, for a 5x5 same convolution to 32 channels (count the multiplications:
each of the 28 x 28 x 32 outputs takes 5 x 5 x 192):

    direct:      28*28*32 * 5*5*192                          = 120,422,400   (~120M)
    bottleneck:  28*28*16 * 1*1*192   (1x1 -> 16 channels)   =   2,408,448   (~2.4M)
               + 28*28*32 * 5*5*16    (5x5 -> 32)            =  10,035,200   (~10.0M)
                                                               12,443,648   (~12.4M)

about a tenth of the cost, for the same output shape. conv_multiplies computes these.
"""
from __future__ import annotations

from .. import functional as F
from ..nn import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module
from ..ops import cat
from ..tensor import Tensor


def conv_multiplies(height: int, width: int, in_channels: int, out_channels: int,
                    kernel_size: int = 1) -> int:
    """Multiplications of a convolution with an output of height x width x out_channels,
    each output value a dot product over kernel_size x kernel_size x in_channels:

        n_H_out * n_W_out * n_C_out * f * f * n_C_in

    conv_multiplies(28, 28, 192, 32, 5) == 120,422,400 (the course's ~120M).
    """
    for name, v in (("height", height), ("width", width), ("in_channels", in_channels),
                    ("out_channels", out_channels), ("kernel_size", kernel_size)):
        if int(v) != v or v < 1:
            raise ValueError(f"conv_multiplies: {name} must be a positive integer, got {v!r}")
    return int(height) * int(width) * int(out_channels) * int(kernel_size) ** 2 * int(in_channels)


def bottleneck_multiplies(height: int, width: int, in_channels: int, bottleneck_channels: int,
                          out_channels: int, kernel_size: int) -> int:
    """Multiplications of a 1x1 convolution to bottleneck_channels followed by a
    kernel_size 'same' convolution to out_channels, on a height x width input:
    bottleneck_multiplies(28, 28, 192, 16, 32, 5) == 12,443,648 (the course's ~12.4M)."""
    return (conv_multiplies(height, width, in_channels, bottleneck_channels, 1)
            + conv_multiplies(height, width, bottleneck_channels, out_channels, kernel_size))


def _conv(c_in: int, c_out: int, f: int) -> Conv2d:
    return Conv2d(c_in, c_out, f, padding=f // 2, init="he_normal")


class InceptionModule(Module):
    """Four branches, each convolution followed by ReLU, concatenated on the channels:

        b1: CONV 1x1 -> ch1x1
        b2: CONV 1x1 -> ch3x3_reduce, CONV 3x3 same -> ch3x3
        b3: CONV 1x1 -> ch5x5_reduce, CONV 5x5 same -> ch5x5
        b4: MAX-POOL 3x3 s=1 same, CONV 1x1 -> pool_proj
        (m, in_channels, H, W) -> (m, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)

    GoogLeNet's inception (3a) is InceptionModule(192, 64, 96, 128, 16, 32, 32): 28 x 28 x 192
    -> 28 x 28 x 256, 163,696 parameters. Its 5x5 branch is the course's bottleneck example
    (see conv_multiplies). Without the 1x1 projection the pooling branch would keep all
    in_channels and the channels would only grow.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3_reduce: int, ch3x3: int,
                 ch5x5_reduce: int, ch5x5: int, pool_proj: int):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = _conv(in_channels, ch1x1, 1)
        self.branch2_reduce = _conv(in_channels, ch3x3_reduce, 1)
        self.branch2 = _conv(ch3x3_reduce, ch3x3, 3)
        self.branch3_reduce = _conv(in_channels, ch5x5_reduce, 1)
        self.branch3 = _conv(ch5x5_reduce, ch5x5, 5)
        self.branch4_pool = MaxPool2d(3, stride=1, padding=1)
        self.branch4 = _conv(in_channels, pool_proj, 1)

    def forward(self, X: Tensor) -> Tensor:
        if X.ndim != 4 or X.shape[1] != self.in_channels:
            raise ValueError(f"InceptionModule: expected input (N, {self.in_channels}, H, W), got {X.shape}")
        b1 = F.relu(self.branch1(X))
        b2 = F.relu(self.branch2(F.relu(self.branch2_reduce(X))))
        b3 = F.relu(self.branch3(F.relu(self.branch3_reduce(X))))
        b4 = F.relu(self.branch4(self.branch4_pool(X)))
        return cat([b1, b2, b3, b4], axis=1)

    def extra_repr(self) -> str:
        return f"{self.in_channels} -> {self.out_channels}"


class SmallGoogLeNet(Module):
    """A GoogLeNet for 28 x 28 / 32 x 32 images: its inception (3a), (3b), (4a) at a quarter of
    the width, without the auxiliary classifiers.

        CONV 3x3 same -> 48, ReLU, MAX-POOL 2x2 s=2           14 x 14 x 48   (28 x 28 input)
        inception 3a (48; 16, 24->32, 4->8, 8)              14 x 14 x 64
        inception 3b (64; 32, 32->48, 8->24, 16)            14 x 14 x 120
        MAX-POOL 3x3 s=2 p=1                                  7 x  7 x 120
        inception 4a (120; 48, 24->52, 4->12, 16)             7 x  7 x 128
        global AVG-POOL, DROPOUT 0.4, FC num_classes (scores)

    60,114 parameters with 1 input channel and 10 classes.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, dropout: float = 0.4):
        super().__init__()
        self.stem = _conv(in_channels, 48, 3)
        self.pool1 = MaxPool2d(2, stride=2)
        self.inception3a = InceptionModule(48, 16, 24, 32, 4, 8, 8)
        self.inception3b = InceptionModule(64, 32, 32, 48, 8, 24, 16)
        self.pool2 = MaxPool2d(3, stride=2, padding=1)
        self.inception4a = InceptionModule(120, 48, 24, 52, 4, 12, 16)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.flatten = Flatten()
        self.dropout = Dropout(dropout)
        self.fc = Linear(self.inception4a.out_channels, num_classes)

    def forward(self, X: Tensor) -> Tensor:
        A = self.pool1(F.relu(self.stem(X)))
        A = self.pool2(self.inception3b(self.inception3a(A)))
        A = self.inception4a(A)
        return self.fc(self.dropout(self.flatten(self.avgpool(A))))


__all__ = ["InceptionModule", "SmallGoogLeNet", "conv_multiplies", "bottleneck_multiplies"]
