"""Plain convolutional networks: the book's SimpleConvNet and DeepConvNet, LeNet-5, AlexNet, VGG-16.

Notation (the course's): an image volume is n_H x n_W x n_C; CONV f x f, s, p -> F filters;
POOL f x f, s; FC n. Tensors themselves are NCHW (batch, channels, height, width), and every
model's forward takes a batch (m, C, H, W) and returns class scores (logits, before softmax)
of shape (m, num_classes); pair them with F.cross_entropy, which takes logits.

Output size of a conv or pool layer: n_out = floor((n + 2p - f) / s) + 1.
Parameters of a conv layer: F (f f C + 1); of a fully connected one: n (n_prev + 1).
"""
from __future__ import annotations

import functools

from ..nn import (
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Tanh,
    init,
)
from ..nn.containers import relu_pool
from ..ops.conv import out_size
from ..tensor import Tensor


def _check_images(model: str, X: Tensor, shape: tuple) -> None:
    """Raise, naming the model, unless X is a batch of images of the given (C, H, W)."""
    if X.ndim != 4 or tuple(X.shape[1:]) != tuple(shape):
        raise ValueError(f"{model}: expected input (N, {', '.join(map(str, shape))}), got {X.shape}")


def _scaled(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


# ---------------------------------------------------------------------------------------------
class SimpleConvNet(Module):
    """The book's SimpleConvNet ("Deep Learning from Scratch", ch. 7):

        conv - relu - pool - affine - relu - affine

        input C x H x W                                  (1 x 28 x 28 for MNIST)
        CONV f x f, s = stride, p = pad -> filter_num     28 -> 24 x 24 x 30
        ReLU, MAX-POOL 2 x 2, s = 2                       -> 12 x 12 x 30 = 4320
        FC hidden_size, ReLU                              -> 100
        FC output_size                                    -> 10 (scores)

    Weights are drawn as the book draws them, weight_init_std * randn, and biases start at zero.
    Parameters with the defaults at 1 x 28 x 28: 780 + 432,100 + 1,010 = 433,890.
    """

    def __init__(self, input_dim=(1, 28, 28), filter_num: int = 30, filter_size: int = 5,
                 pad: int = 0, stride: int = 1, hidden_size: int = 100, output_size: int = 10,
                 weight_init_std: float = 0.01):
        super().__init__()
        C, H, W = input_dim
        self.input_dim = tuple(input_dim)
        conv_h, conv_w = (out_size(n, filter_size, stride, 2 * pad) for n in (H, W))
        if conv_h < 2 or conv_w < 2:
            raise ValueError(f"SimpleConvNet: a {filter_size}x{filter_size} filter (stride {stride}, "
                             f"pad {pad}) leaves {conv_h}x{conv_w} for the 2x2 pooling of a "
                             f"{H}x{W} input")
        pool_output_size = filter_num * (conv_h // 2) * (conv_w // 2)
        draw = functools.partial(init.normal_, mean=0.0, std=weight_init_std)
        self.conv1 = Conv2d(C, filter_num, filter_size, stride=stride, padding=pad, init=draw)
        self.relu1 = ReLU()
        self.pool1 = MaxPool2d(2, stride=2)
        self.flatten = Flatten()
        self.affine1 = Linear(pool_output_size, hidden_size, init=draw)
        self.relu2 = ReLU()
        self.affine2 = Linear(hidden_size, output_size, init=draw)

    def forward(self, X: Tensor) -> Tensor:
        _check_images("SimpleConvNet", X, self.input_dim)
        A = relu_pool(self.relu1, self.pool1, self.conv1(X))   # pool(relu(Z)), in the cheap order
        A = self.relu2(self.affine1(self.flatten(A)))
        return self.affine2(A)


# ---------------------------------------------------------------------------------------------
class DeepConvNet(Module):
    """The book's DeepConvNet ("Deep Learning from Scratch", ch. 8), ~99.4% on MNIST:

        conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool -
        affine - relu - dropout - affine - dropout

        input 1 x 28 x 28
        CONV 3x3 p1 -> 16, ReLU, CONV 3x3 p1 -> 16, ReLU, MAX-POOL 2x2 s2   -> 14 x 14 x 16
        CONV 3x3 p1 -> 32, ReLU, CONV 3x3 p2 -> 32, ReLU, MAX-POOL 2x2 s2   -> 16 -> 8 x 8 x 32
        CONV 3x3 p1 -> 64, ReLU, CONV 3x3 p1 -> 64, ReLU, MAX-POOL 2x2 s2   -> 4 x 4 x 64 = 1024
        FC 50, ReLU, DROPOUT 0.5, FC 10, DROPOUT 0.5

    The fourth convolution pads by 2, as in the book's code (conv_param_4 'pad': 2): that makes
    the 14 x 14 map 16 x 16, so the last pooling leaves 4 x 4 x 64 (the book's 64*4*4 affine).
    He initialization (std sqrt(2 / fan_in)), biases zero, as the book.
    Parameters at 1 x 28 x 28, 10 classes: 160 + 2,320 + 4,640 + 9,248 + 18,496 + 36,928
    + 51,250 + 510 = 123,552.
    """

    def __init__(self, input_dim=(1, 28, 28), hidden_size: int = 50, output_size: int = 10,
                 dropout: float = 0.5):
        super().__init__()
        C, H, W = input_dim
        self.input_dim = tuple(input_dim)
        conv = functools.partial(Conv2d, kernel_size=3, init="he_normal")
        self.features = Sequential(
            conv(C, 16, padding=1), ReLU(), conv(16, 16, padding=1), ReLU(), MaxPool2d(2, 2),
            conv(16, 32, padding=1), ReLU(), conv(32, 32, padding=2), ReLU(), MaxPool2d(2, 2),
            conv(32, 64, padding=1), ReLU(), conv(64, 64, padding=1), ReLU(), MaxPool2d(2, 2),
        )
        h, w = (((n // 2) + 2) // 2 // 2 for n in (H, W))
        if h < 1 or w < 1:
            raise ValueError(f"DeepConvNet: input {input_dim} is too small for three 2x2 poolings")
        self.classifier = Sequential(
            Flatten(), Linear(64 * h * w, hidden_size, init="he_normal"), ReLU(), Dropout(dropout),
            Linear(hidden_size, output_size, init="he_normal"), Dropout(dropout),
        )

    def forward(self, X: Tensor) -> Tensor:
        _check_images("DeepConvNet", X, self.input_dim)
        return self.classifier(self.features(X))


# ---------------------------------------------------------------------------------------------
class LeNet5(Module):
    """LeNet-5 (LeCun et al., 1998), as the course draws it:

        input 32 x 32 x 1
        CONV 5x5, s=1 -> 6     28 x 28 x 6        156 parameters
        AVG-POOL 2x2, s=2      14 x 14 x 6
        CONV 5x5, s=1 -> 16    10 x 10 x 16     2,416
        AVG-POOL 2x2, s=2       5 x  5 x 16 = 400
        FC 120                                 48,120
        FC 84                                  10,164
        FC 10 (scores)                            850
                                       total   61,706 parameters (10 classes)

    Simplified as is standard: the paper's partial connection table of C3 (each of the 16 maps
    sees only some of the 6) is a full convolution here, and its trainable subsampling
    (average times a learned coefficient plus bias, then a sigmoid) is plain average pooling;
    the output layer is a linear layer instead of Euclidean RBF units.

    activation='tanh', pooling='avg' is the classic; activation='relu', pooling='max' the modern
    variant (same parameter count). input_size=28 takes 28 x 28 MNIST digits directly: the first
    convolution pads by 2, which makes them 32 x 32, and the rest is identical.
    """

    def __init__(self, activation: str = "tanh", pooling: str = "avg", num_classes: int = 10,
                 input_size: int = 32, in_channels: int = 1):
        super().__init__()
        acts = {"tanh": Tanh, "relu": ReLU}
        pools = {"avg": AvgPool2d, "max": MaxPool2d}
        if activation not in acts:
            raise ValueError(f"LeNet5: activation must be one of {sorted(acts)}, got {activation!r}")
        if pooling not in pools:
            raise ValueError(f"LeNet5: pooling must be one of {sorted(pools)}, got {pooling!r}")
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5: input_size must be 32 (the paper) or 28 (MNIST, padded by 2), "
                             f"got {input_size}")
        self.activation, self.pooling = activation, pooling
        self.input_shape = (in_channels, input_size, input_size)
        Act, Pool = acts[activation], pools[pooling]
        pad = (32 - input_size) // 2
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=pad), Act(), Pool(2, 2),
            Conv2d(6, 16, 5), Act(), Pool(2, 2),
        )
        self.classifier = Sequential(
            Flatten(), Linear(16 * 5 * 5, 120), Act(), Linear(120, 84), Act(), Linear(84, num_classes),
        )

    def forward(self, X: Tensor) -> Tensor:
        _check_images("LeNet5", X, self.input_shape)
        return self.classifier(self.features(X))


# ---------------------------------------------------------------------------------------------
class AlexNet(Module):
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012), the single-GPU variant without grouping:

        input 227 x 227 x 3
        CONV 11x11, s=4 -> 96          55 x 55 x 96          34,944 parameters
        MAX-POOL 3x3, s=2              27 x 27 x 96
        CONV 5x5, same -> 256          27 x 27 x 256        614,656
        MAX-POOL 3x3, s=2              13 x 13 x 256
        CONV 3x3, same -> 384          13 x 13 x 384        885,120
        CONV 3x3, same -> 384          13 x 13 x 384      1,327,488
        CONV 3x3, same -> 256          13 x 13 x 256        884,992
        MAX-POOL 3x3, s=2               6 x  6 x 256 = 9216
        DROPOUT, FC 4096, ReLU                           37,752,832
        DROPOUT, FC 4096, ReLU                           16,781,312
        FC 1000 (scores)                                  4,097,000
                                              total      62,378,344 parameters

    ReLU follows every convolution. That is the paper's "~60 million": 62,378,344 exactly for
    this configuration (torchvision's AlexNet, 61,100,840, uses 64/192/384/256/256 filters and
    224 inputs). Local response normalization and the two-GPU grouping are left out.

    width scales every layer's channels and the 4096 hidden units (width=1/16 with
    input_size=67, the smallest input that survives the three poolings, gives a toy
    network for tests); input_size sizes the first FC layer.
    """

    def __init__(self, num_classes: int = 1000, width: float = 1.0, input_size: int = 227,
                 dropout: float = 0.5, in_channels: int = 3):
        super().__init__()
        c1, c2, c3, c4, c5 = (_scaled(c, width) for c in (96, 256, 384, 384, 256))
        hidden = _scaled(4096, width)
        n = out_size(input_size, 11, 4, 0)
        for _ in range(3):            # the three 3 x 3, s = 2 max-pools
            n = out_size(n, 3, 2, 0)
        if n < 1:
            raise ValueError(f"AlexNet: input_size {input_size} is too small (at least 67)")
        self.input_shape = (in_channels, input_size, input_size)
        self.features = Sequential(
            Conv2d(in_channels, c1, 11, stride=4), ReLU(), MaxPool2d(3, 2),
            Conv2d(c1, c2, 5, padding=2), ReLU(), MaxPool2d(3, 2),
            Conv2d(c2, c3, 3, padding=1), ReLU(),
            Conv2d(c3, c4, 3, padding=1), ReLU(),
            Conv2d(c4, c5, 3, padding=1), ReLU(), MaxPool2d(3, 2),
        )
        self.classifier = Sequential(
            Flatten(), Dropout(dropout), Linear(c5 * n * n, hidden), ReLU(),
            Dropout(dropout), Linear(hidden, hidden), ReLU(),
            Linear(hidden, num_classes),
        )

    def forward(self, X: Tensor) -> Tensor:
        _check_images("AlexNet", X, self.input_shape)
        return self.classifier(self.features(X))


# ---------------------------------------------------------------------------------------------
VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG16(Module):
    """VGG-16 (Simonyan & Zisserman, 2015): only CONV 3x3 same (s=1) and MAX-POOL 2x2 s=2.

        input 224 x 224 x 3
        [CONV 64] x 2,  POOL     112 x 112 x 64
        [CONV 128] x 2, POOL      56 x  56 x 128
        [CONV 256] x 3, POOL      28 x  28 x 256
        [CONV 512] x 3, POOL      14 x  14 x 512
        [CONV 512] x 3, POOL       7 x   7 x 512 = 25,088
        FC 4096, ReLU, DROPOUT; FC 4096, ReLU, DROPOUT; FC 1000 (scores)

    13 conv + 3 FC = 16 weight layers, each conv followed by ReLU; the channels double
    (64 -> 128 -> 256 -> 512) as height and width halve. 138,357,544 parameters at
    224 x 224 x 3 with 1000 classes (14,714,688 in the convolutions, 123,642,856 in the FC
    layers, 102,764,544 of them in the first).

    input_size (a multiple of 32) sizes the first FC layer: input_size=32 gives a 1 x 1 x 512
    feature volume and FC 512 -> 4096 (a CIFAR-size variant, 33,638,218 parameters with 10
    classes). width scales the channels and the 4096 hidden units.
    """

    def __init__(self, num_classes: int = 1000, input_size: int = 224, width: float = 1.0,
                 dropout: float = 0.5, in_channels: int = 3):
        super().__init__()
        if input_size < 32 or input_size % 32:
            raise ValueError(f"VGG16: input_size must be a multiple of 32 (five 2x2 poolings), "
                             f"got {input_size}")
        self.input_shape = (in_channels, input_size, input_size)
        layers, c = [], in_channels
        for v in VGG16_CONFIG:
            if v == "M":
                layers.append(MaxPool2d(2, 2))
            else:
                v = _scaled(v, width)
                layers += [Conv2d(c, v, 3, padding=1), ReLU()]
                c = v
        self.features = Sequential(*layers)
        hidden, n = _scaled(4096, width), input_size // 32
        self.classifier = Sequential(
            Flatten(), Linear(c * n * n, hidden), ReLU(), Dropout(dropout),
            Linear(hidden, hidden), ReLU(), Dropout(dropout), Linear(hidden, num_classes),
        )

    def forward(self, X: Tensor) -> Tensor:
        _check_images("VGG16", X, self.input_shape)
        return self.classifier(self.features(X))


__all__ = ["SimpleConvNet", "DeepConvNet", "LeNet5", "AlexNet", "VGG16", "VGG16_CONFIG"]
