"""The feature network whose activations the style-transfer costs compare.

gradwise ships no pretrained weights, and no dataset of colour photos is at hand to train
one (MNIST and Fashion-MNIST are 28 x 28 grey digits and clothes; the course's h5 sets hold
a few hundred 64 x 64 images), so `FeatureNet` is a VGG-style stack of 3x3 convolutions and
ReLUs with fixed random weights (He-normal, a fixed seed). Random convolutional features are
enough for this method: their Gram matrices capture colour and local texture (Ustyuzhaninov
et al. 2017, "What does it take to generate natural textures?"; He, Wang and Hopcroft 2016,
"A powerful generative model using random weights for the deep image representation"), and
shallow random features keep the spatial layout that the content cost needs. What they lack
compared with a trained VGG-19 is semantic content: the output keeps the content image's
shapes and edges, restyled in the style's colours and textures, rather than re-painting
objects as objects. Average pooling replaces max pooling, as Gatys et al. recommend for
image synthesis.
"""
from __future__ import annotations

import math

import numpy as np

from ... import backend
from ... import functional as F
from ...nn import Conv2d, Module
from ...tensor import Tensor


class FeatureNet(Module):
    """A VGG-style network with fixed random weights: blocks of 3x3 'same' convolutions and
    ReLUs, each block but the last followed by 2x2 average pooling. Layers are named as in
    VGG: conv{block}_{k} is the ReLU output of the block's k-th convolution.

        default blocks ((32, 32), (64, 64), (128, 128), (128,)) on a 3 x 128 x 128 image:
        conv1_1, conv1_2 at 128 x 128 x 32, conv2_* at 64 x 64 x 64,
        conv3_* at 32 x 32 x 128, conv4_1 at 16 x 16 x 128

    Filters are He-normal, N(0, 2 / (9 C_in)), so the activations keep their scale from layer
    to layer; biases are zero. The weights depend on `seed` only (not on
    gradwise.manual_seed), as pretrained weights would be fixed, and they are frozen
    (requires_grad False): only the input gets a gradient. The input is an image in [0, 1]
    (m, 3, H, W), centred on 0.5 inside forward.
    """

    def __init__(self, blocks=((32, 32), (64, 64), (128, 128), (128,)), in_channels: int = 3,
                 seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.blocks = tuple(tuple(int(c) for c in b) for b in blocks)
        self.layer_names: list[str] = []
        C = self.in_channels = int(in_channels)
        dtype = backend.get_default_dtype()
        for i, block in enumerate(self.blocks, start=1):
            for k, out in enumerate(block, start=1):
                conv = Conv2d(C, out, 3, padding="same", bias=False)
                he_std = math.sqrt(2.0 / (9 * C))                      # fan_in = 3 x 3 x C
                conv.W.data[...] = (he_std * rng.standard_normal(conv.W.shape)).astype(dtype)
                conv.W.requires_grad = False
                name = f"conv{i}_{k}"
                setattr(self, name, conv)
                self.layer_names.append(name)
                C = out

    def forward(self, X: Tensor, layers=None) -> dict:
        """{name: activation} for `layers` (default: all), computed up to the deepest one."""
        if X.ndim != 4 or X.shape[1] != self.in_channels:
            raise ValueError(f"FeatureNet: expected images (m, {self.in_channels}, H, W), got {X.shape}")
        wanted = list(self.layer_names if layers is None else layers)
        unknown = [n for n in wanted if n not in self.layer_names]
        if unknown:
            raise KeyError(f"FeatureNet: no layer {unknown[0]!r}; the layers are "
                           f"{', '.join(self.layer_names)}")
        depth = max(self.layer_names.index(n) for n in wanted) if wanted else -1
        out, A = {}, X - 0.5
        for name in self.layer_names[:depth + 1]:
            block, k = (int(s) for s in name[4:].split("_"))
            if k == 1 and block > 1:
                A = F.avg_pool2d(A, 2)
            A = F.relu(getattr(self, name)(A))
            if name in wanted:
                out[name] = A
        return out
