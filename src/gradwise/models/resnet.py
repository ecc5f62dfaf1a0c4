"""Residual networks (He et al., 2016): blocks whose skip connection adds the input back.

The course's residual block: the activation a[l] skips two layers and is added before the
last ReLU,

    z[l+1] = W[l+1] a[l] + b[l+1],   a[l+1] = g(z[l+1])
    z[l+2] = W[l+2] a[l+1] + b[l+2], a[l+2] = g(z[l+2] + a[l])

so if weight decay drives W[l+2] (and here BN's gamma) to zero, a[l+2] = g(a[l]) = a[l] for
ReLU outputs: the identity is easy to learn, and extra blocks do not hurt.
When the shapes of z[l+2] and a[l] differ (stride 2 or more channels), a[l] is projected
first: a[l+2] = g(z[l+2] + W_s a[l]), with W_s a 1x1 convolution of that stride followed by
batch norm (the course's "convolutional block"; torchvision's `downsample`).

Layouts follow torchvision (so the parameter counts are its: ResNet-18 11,689,512,
ResNet-34 21,797,672, ResNet-50 25,557,032): convolutions without bias (the BN after each one
has a shift beta), BN after every convolution, a projection shortcut only where the shape
changes, and in bottlenecks the stride on the 3x3 convolution ("ResNet v1.5"; the paper
and the course's Keras assignment put it on the first 1x1: stride_on='1x1').
Convolutions are He-initialized (std sqrt(2 / fan_in)); BN starts at gamma 1, beta 0.
"""
from __future__ import annotations

from .. import functional as F
from ..nn import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
)
from ..nn.containers import relu_pool
from ..tensor import Tensor


def _conv(c_in: int, c_out: int, f: int, stride: int = 1) -> Conv2d:
    """f x f convolution with 'same' padding at stride 1, no bias (BN follows). Odd f pads
    f // 2 on every side (at any stride, as torchvision); even f (the course's f = 2) pads
    f - 1 in all, the extra row and column at the bottom and right as Keras' 'same', which
    is defined here for stride 1 only."""
    padding = f // 2 if f % 2 else "same"
    return Conv2d(c_in, c_out, f, stride=stride, padding=padding, bias=False, init="he_normal")


def _shortcut(c_in: int, c_out: int, stride: int) -> Module:
    """Identity when the shapes match, else the projection W_s: 1x1 conv, stride, then BN."""
    if stride == 1 and c_in == c_out:
        return Identity()
    return Sequential(_conv(c_in, c_out, 1, stride), BatchNorm2d(c_out))


class BasicBlock(Module):
    """Two 3x3 convolutions with a skip connection (ResNet-18/34):

        a[l] -> CONV 3x3, s -> BN -> ReLU -> CONV 3x3 -> BN -> (+ shortcut(a[l])) -> ReLU

    in_channels -> channels (expansion 1); stride 2 halves height and width.
    Parameters: 9 C_in C + 9 C C + 4 C (BN), plus C_in C + 2 C for a projection shortcut.
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = _conv(in_channels, channels, 3, stride)
        self.bn1 = BatchNorm2d(channels)
        self.conv2 = _conv(channels, channels, 3)
        self.bn2 = BatchNorm2d(channels)
        self.shortcut = _shortcut(in_channels, channels, stride)

    def forward(self, a: Tensor) -> Tensor:
        a1 = F.relu(self.bn1(self.conv1(a)))           # a[l+1] = g(z[l+1])
        z2 = self.bn2(self.conv2(a1))                  # z[l+2]
        return F.relu(z2 + self.shortcut(a))           # a[l+2] = g(z[l+2] + a[l])


class ConvolutionalBlock(Module):
    """The course's three-layer residual block with filters (F1, F2, F3):

        a[l] -> CONV 1x1 -> F1, BN, ReLU -> CONV f x f same -> F2, BN, ReLU
             -> CONV 1x1 -> F3, BN -> (+ shortcut(a[l])) -> ReLU

    f may be even (the course's f = 2): the f x f convolution pads 'same' as Keras, the extra
    row and column at the bottom and right.
    The shortcut is the projection W_s (CONV 1x1, stride s, -> F3, then BN) whenever the
    shapes differ (s > 1 or in_channels != F3), else the identity. The stride s sits on the
    first 1x1 convolution (the paper and the course, stride_on='1x1') or on the f x f one
    (stride_on='3x3', torchvision's v1.5, which loses less information).
    Parameters: C_in F1 + f f F1 F2 + F2 F3 + 2 (F1 + F2 + F3) (BN), plus C_in F3 + 2 F3 for W_s.
    """

    def __init__(self, in_channels: int, filters, f: int = 3, s: int = 2, stride_on: str = "1x1"):
        super().__init__()
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"{type(self).__name__}: stride_on must be '1x1' or '3x3', got {stride_on!r}")
        if f % 2 == 0 and s != 1 and stride_on == "3x3":
            raise ValueError(f"{type(self).__name__}: an even filter size f = {f} pads 'same' at "
                             f"stride 1 only, so the stride s = {s} cannot sit on it: use "
                             f"stride_on='1x1' (the course's block) or an odd f")
        F1, F2, F3 = filters
        self.filters, self.f, self.s = (F1, F2, F3), f, s
        self.conv1 = _conv(in_channels, F1, 1, s if stride_on == "1x1" else 1)
        self.bn1 = BatchNorm2d(F1)
        self.conv2 = _conv(F1, F2, f, s if stride_on == "3x3" else 1)
        self.bn2 = BatchNorm2d(F2)
        self.conv3 = _conv(F2, F3, 1)
        self.bn3 = BatchNorm2d(F3)
        self.shortcut = _shortcut(in_channels, F3, s)

    def forward(self, a: Tensor) -> Tensor:
        A = F.relu(self.bn1(self.conv1(a)))
        A = F.relu(self.bn2(self.conv2(A)))
        z = self.bn3(self.conv3(A))
        return F.relu(z + self.shortcut(a))            # a[l+2] = g(z[l+2] + a[l])  (W_s a[l])


class IdentityBlock(ConvolutionalBlock):
    """The course's identity block: ConvolutionalBlock with stride 1 and F3 == in_channels, so
    input and output have the same shape and the shortcut is a[l] itself:
    a[l+2] = g(z[l+2] + a[l]).

    With every weight (or BN's gamma and beta) at zero, z[l+2] = 0 and the block returns
    g(a[l]) = relu(input): the identity is easy to learn.
    """

    def __init__(self, in_channels: int, filters, f: int = 3):
        if tuple(filters)[-1] != in_channels:
            raise ValueError(f"IdentityBlock: the last filter count F3 = {tuple(filters)[-1]} must "
                             f"equal in_channels = {in_channels} for the identity shortcut; use "
                             f"ConvolutionalBlock to change the number of channels")
        super().__init__(in_channels, filters, f, s=1)


class Bottleneck(ConvolutionalBlock):
    """ResNet-50's block: 1x1 reduce to `channels`, 3x3 (stride here, v1.5), 1x1 expand to
    4 * channels; a projection shortcut where the shape changes. torchvision's Bottleneck."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__(in_channels, (channels, channels, channels * self.expansion), f=3,
                         s=stride, stride_on="3x3")


_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def _stage(block, in_channels: int, channels: int, n_blocks: int, stride: int):
    """n_blocks blocks; the first may change the shape (stride, channels), the rest keep it."""
    blocks = [block(in_channels, channels, stride)]
    out = channels * block.expansion
    blocks += [block(out, channels, 1) for _ in range(n_blocks - 1)]
    return Sequential(*blocks), out


class ResNet(Module):
    """ResNet for ImageNet (224 x 224 x 3):

        CONV 7x7, s=2, p=3 -> 64, BN, ReLU          112 x 112 x 64
        MAX-POOL 3x3, s=2, p=1                       56 x  56 x 64
        layer1: blocks -> 64 (x expansion)           56 x  56
        layer2: blocks -> 128, first with s=2        28 x  28
        layer3: blocks -> 256, first with s=2        14 x  14
        layer4: blocks -> 512, first with s=2         7 x   7 x 512 expansion
        global AVG-POOL, FC num_classes (scores)

    Any input of at least 32 x 32 works (global pooling; in training, batch norm needs more
    than one value per channel, so batch 1 wants at least 64 x 64). Build one with
    resnet18/34/50.
    """

    def __init__(self, block, layers, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        block = _BLOCKS.get(block, block)
        self.conv1 = Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False, init="he_normal")
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(3, stride=2, padding=1)
        c = 64
        self.layer1, c = _stage(block, c, 64, layers[0], 1)
        self.layer2, c = _stage(block, c, 128, layers[1], 2)
        self.layer3, c = _stage(block, c, 256, layers[2], 2)
        self.layer4, c = _stage(block, c, 512, layers[3], 2)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.flatten = Flatten()
        self.fc = Linear(c, num_classes)

    def forward(self, X: Tensor) -> Tensor:
        A = relu_pool(self.relu, self.maxpool, self.bn1(self.conv1(X)))   # maxpool(relu(Z)), cheaply
        A = self.layer4(self.layer3(self.layer2(self.layer1(A))))
        return self.fc(self.flatten(self.avgpool(A)))


def resnet18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-18: BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters (3 x 224 x 224, 1000 classes)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels)


def resnet34(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-34: BasicBlocks [3, 4, 6, 3]; 21,797,672 parameters (3 x 224 x 224, 1000 classes)."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, in_channels)


def resnet50(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-50: Bottlenecks [3, 4, 6, 3], output 2048 channels; 25,557,032 parameters
    (3 x 224 x 224, 1000 classes)."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels)


class SmallResNet(Module):
    """A ResNet for 28 x 28 / 32 x 32 images (MNIST, CIFAR), after He et al.'s CIFAR nets:

        CONV 3x3 same -> widths[0], BN, ReLU             32 x 32 x 16
        stage 1: blocks_per_stage[0] blocks -> widths[0]  32 x 32 x 16
        stage 2: first block s=2 -> widths[1]             16 x 16 x 32
        stage 3: first block s=2 -> widths[2]              8 x  8 x 64
        global AVG-POOL, FC num_classes (scores)

    block='basic' (two 3x3 convs) or 'bottleneck' (1x1-3x3-1x1, output 4 x widths[i]).
    blocks_per_stage is an int (the same for every stage) or one count per stage; with the
    defaults (1 input channel, widths (16, 32, 64), 2 basic blocks per stage, 10 classes) it
    has 174,970 parameters; He et al.'s ResNet-20 for CIFAR is blocks_per_stage=3 with
    in_channels=3: 272,474 parameters (the paper's 0.27M; projection shortcuts here, where
    the paper pads the identity with zeros).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, widths=(16, 32, 64),
                 blocks_per_stage=2, block: str = "basic"):
        super().__init__()
        if block not in _BLOCKS:
            raise ValueError(f"SmallResNet: block must be one of {sorted(_BLOCKS)}, got {block!r}")
        widths = tuple(widths)
        if isinstance(blocks_per_stage, int):
            blocks_per_stage = (blocks_per_stage,) * len(widths)
        if len(blocks_per_stage) != len(widths) or min(blocks_per_stage) < 1:
            raise ValueError(f"SmallResNet: blocks_per_stage {blocks_per_stage} must give one "
                             f"count >= 1 for each of the {len(widths)} widths {widths}")
        B = _BLOCKS[block]
        self.stem = Sequential(_conv(in_channels, widths[0], 3), BatchNorm2d(widths[0]))
        stages, c = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks_per_stage)):
            stage, c = _stage(B, c, w, n, 1 if i == 0 else 2)
            stages.append(stage)
        self.stages = Sequential(*stages)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.flatten = Flatten()
        self.fc = Linear(c, num_classes)

    def forward(self, X: Tensor) -> Tensor:
        A = self.stages(F.relu(self.stem(X)))
        return self.fc(self.flatten(self.avgpool(A)))


__all__ = ["BasicBlock", "Bottleneck", "ConvolutionalBlock", "IdentityBlock", "ResNet",
           "SmallResNet", "resnet18", "resnet34", "resnet50"]
