"""dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1.dat) as a gradwise
network: a 150 x 150 aligned face chip in, a 128-number descriptor out.

The network (dlib's examples/dnn_face_recognition_ex.cpp), from the input up:

    x = (pixel - mean colour) / 256                      input_rgb_image_sized<150>
    CONV 7x7/2 (32) - AFFINE - RELU - MAXPOOL 3x3/2      150 -> 72 -> 35
    3 residual blocks of 32 channels                     35
    4 of 64, 3 of 128, 3 of 256, 1 of 256; the first    35 -> 17 -> 8 -> 4 -> 2
      of each width halves the image
    global average pool - FC 128 (no bias)               the descriptor

    block(x) = RELU(shortcut(x) + AFFINE(CONV 3x3(RELU(AFFINE(CONV 3x3/s(x))))))

where the shortcut of a halving block is a 2x2/2 average pool. AFFINE is batch norm folded
into a per-channel scale and shift (gamma * x + beta). Two dlib conventions matter:
a convolution of stride 2 has no padding (stride 1: "same"), and a residual sum of two
tensors of different shapes is taken on the larger shape with the missing entries zero
(more channels after the pool's input; 8 -> 3 by the 3x3/2 convolution but 8 -> 4 by the
pool). dlib does not normalise the descriptor: two chips show the same person when
||f(a) - f(b)|| < 0.6.

The .dat file stores the layers from the input up, each after the nested versions of its
wrappers (dlib/dnn/core.h); the residual wiring (dlib's tags and skips) is not in the
file, so the loader reads the layers and lays them out with the grammar above.
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...nn import AdaptiveAvgPool2d, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Module, Parameter, ReLU, Sequential
from ...tensor import Tensor
from .dlib_format import DlibReader

CHIP_SIZE = 150
SAME_PERSON_DISTANCE = 0.6       # dlib's threshold on the Euclidean distance of descriptors


class ChannelAffine(Module):
    """dlib's affine layer: y = gamma * x + beta, one gamma and beta per channel
    (batch norm with its statistics folded in, for inference)."""

    def __init__(self, gamma, beta):
        super().__init__()
        self.gamma = Parameter(np.asarray(gamma, np.float32).reshape(-1, 1, 1))
        self.beta = Parameter(np.asarray(beta, np.float32).reshape(-1, 1, 1))

    def forward(self, X: Tensor) -> Tensor:
        return X * self.gamma + self.beta

    def extra_repr(self) -> str:
        return f"{self.gamma.shape[0]}"


def add_zero_padded(A: Tensor, B: Tensor) -> Tensor:
    """A + B on the larger of the two shapes, each padded with zeros at the end of every
    axis (dlib's add_prev on tensors of different sizes)."""
    shape = [max(a, b) for a, b in zip(A.shape, B.shape)]

    def grow(T):
        if list(T.shape) == shape:
            return T
        return ops.pad(T, [(0, s - t) for s, t in zip(shape, T.shape)])

    return grow(A) + grow(B)


class ResidualBlock(Module):
    """RELU(shortcut(x) + AFFINE(CONV(RELU(AFFINE(CONV(x)))))); the shortcut is a 2x2/2
    average pool when the first convolution has stride 2, else x itself."""

    def __init__(self, conv1, affine1, conv2, affine2, pool=None):
        super().__init__()
        self.conv1, self.affine1, self.relu1 = conv1, affine1, ReLU()
        self.conv2, self.affine2 = conv2, affine2
        self.shortcut = pool
        self.relu = ReLU()

    def forward(self, X: Tensor) -> Tensor:
        Y = self.affine2(self.conv2(self.relu1(self.affine1(self.conv1(X)))))
        return self.relu(add_zero_padded(X if self.shortcut is None else self.shortcut(X), Y))


class DlibFaceNet(Module):
    """f(x): aligned face chips (N, 3, 150, 150), RGB in [0, 1] -> descriptors (N, 128).

    Build it from dlib's file with DlibFaceNet.load(path) (pretrained.face_net() finds the
    file of the `face-recognition-models` package). input_shape is (3, 150, 150), so the
    network fits FaceDatabase and gradwise.vision.face.embed.
    """

    def __init__(self, mean_rgb, stem, blocks, fc, input_size=CHIP_SIZE):
        super().__init__()
        self.input_shape = (3, int(input_size), int(input_size))
        # pixels in [0, 1] -> dlib's (255 x - mean) / 256
        self.register_buffer("mean", np.asarray(mean_rgb, np.float32).reshape(3, 1, 1))
        self.stem = stem
        self.blocks = Sequential(*blocks)
        self.pool, self.flatten, self.fc = AdaptiveAvgPool2d((1, 1)), Flatten(), fc

    def forward(self, X: Tensor) -> Tensor:
        if X.ndim != 4 or tuple(X.shape[1:]) != self.input_shape:
            raise ValueError(f"DlibFaceNet: expected aligned chips (N, 3, {self.input_shape[1]}, "
                             f"{self.input_shape[2]}), got {X.shape}")
        X = (X * 255.0 - self.mean) * (1.0 / 256.0)
        return self.fc(self.flatten(self.pool(self.blocks(self.stem(X)))))

    @classmethod
    def load(cls, path) -> DlibFaceNet:
        """The network stored in dlib's dlib_face_recognition_resnet_model_v1.dat.
        A file that is truncated or holds another network raises ValueError naming it."""
        r = DlibReader(path)
        _read_loss(r)
        mean, size = _read_input(r)
        layers = []
        while not r.at_end():                       # the layers run to the end of the file
            layers.append(_read_layer(r, first=not layers))
        return _assemble(r, mean, size, layers)


# ---- reading: the loss, the wrappers' versions, the input layer, the layers ----------

def _read_loss(r: DlibReader) -> None:
    r.int("the loss layer's version")
    r.expect("the loss layer", "loss_metric_", "loss_metric_2")
    r.float("loss_metric margin")
    r.float("loss_metric distance threshold")


def _read_input(r: DlibReader):
    # the nested wrappers (add_layer, tag, skip) write only a version each, outermost first
    while r.peek_string() != "input_rgb_image_sized":
        if r.int("a layer wrapper's version") not in (1, 2, 3):
            raise r.error("a layer wrapper's version", "expected 1, 2 or 3 before the input layer")
    r.expect("the input layer", "input_rgb_image_sized")
    mean = [r.float(f"the input's mean {c}") for c in ("red", "green", "blue")]
    rows, cols = r.int("the input's rows"), r.int("the input's columns")
    if rows != cols:
        raise r.error("the input's size", f"a {rows} x {cols} input (square chips expected)")
    return mean, rows


def _read_layer(r: DlibReader, first: bool):
    name = r.string("a layer's name")
    if name in ("con_4", "con_5"):
        layer = _read_con(r, name)
    elif name == "affine_":
        params = r.tensor("affine params").ravel()
        _alias(r, "affine gamma"), _alias(r, "affine beta")
        if r.int("affine mode") != 0:
            raise r.error("affine mode", "only the per-channel (conv) mode is supported")
        C = params.size // 2
        layer = ("affine", ChannelAffine(params[:C], params[C:]))
    elif name in ("relu_", "add_prev_"):
        layer = (name.rstrip("_"), None)
    elif name in ("max_pool_2", "avg_pool_2"):
        nr, nc, sy, sx, py, px = (r.int(f"{name} {f}") for f in ("nr", "nc", "stride_y", "stride_x",
                                                                   "padding_y", "padding_x"))
        kind = name[:8]
        if nr == 0 and nc == 0:
            layer = (kind + "_all", None)
        else:
            Pool = MaxPool2d if kind == "max_pool" else AvgPool2d
            layer = (kind, Pool((nr, nc), (sy, sx), (py, px)))
    elif name == "fc_2":
        layer = _read_fc(r)
    else:
        raise r.error("a layer's name", f"the layer {name!r} is not supported")
    _skip_layer_state(r, first)
    return layer


def _read_con(r: DlibReader, name: str):
    params = r.tensor("con params").ravel()
    F = r.int("con num_filters")
    nr, nc, sy, sx, py, px = (r.int(f"con {f}") for f in ("nr", "nc", "stride_y", "stride_x",
                                                           "padding_y", "padding_x"))
    _, _, C, _, _ = _alias(r, "con filters")
    _alias(r, "con biases")
    for f in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        r.float(f"con {f} multiplier")
    use_bias = r.bool("con use_bias") if name == "con_5" else True
    n_w = F * C * nr * nc
    if params.size != n_w + (F if use_bias else 0):
        raise r.error("con params", f"{params.size} numbers for {F} filters {C}x{nr}x{nc}")
    conv = Conv2d(C, F, (nr, nc), stride=(sy, sx), padding=(py, px), bias=use_bias)
    conv.W.data[...] = params[:n_w].reshape(F, C, nr, nc)
    if use_bias:
        conv.b.data[...] = params[n_w:]
    return "con", conv


def _read_fc(r: DlibReader):
    n_out, n_in = r.int("fc num_outputs"), r.int("fc num_inputs")
    params = r.tensor("fc params")
    _alias(r, "fc weights"), _alias(r, "fc biases")
    has_bias = r.int("fc bias_mode") == 0          # dlib's FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    for f in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        r.float(f"fc {f} multiplier")
    if params.size != (n_in + has_bias) * n_out:
        raise r.error("fc params", f"{params.size} numbers for {n_in} -> {n_out}")
    P = params.reshape(n_in + has_bias, n_out)     # dlib computes x P: inputs down the rows
    fc = Linear(n_in, n_out, bias=has_bias)
    fc.W.data[...] = P[:n_in].T
    if has_bias:
        fc.b.data[...] = P[n_in]
    return "fc", fc


def _alias(r: DlibReader, field: str):
    """An alias_tensor: a version and the dims n, k, nr, nc of a view into params."""
    return tuple(r.int(field) for _ in range(5))


def _skip_layer_state(r: DlibReader, first: bool) -> None:
    """What dlib's add_layer saves after a layer's parameters: three flags and three
    (empty) tensors of training state; the layer on the input adds one more integer."""
    for f in ("setup called", "gradient stale", "outputs disabled"):
        r.bool(f"layer state ({f})")
    for f in ("x_grad", "cached output", "params_grad"):
        r.tensor(f"layer state ({f})")
    if first:
        r.int("the input layer's sample expansion factor")


# ---- assembling the layers into the network ------------------------------------------

BLOCK = ["con", "affine", "relu", "con", "affine"]


def _assemble(r: DlibReader, mean, size, layers) -> DlibFaceNet:
    kinds = [k for k, _ in layers]

    def fail(why):
        return r.error("the network's layers", f"{why}; the layers are {' '.join(kinds)}")

    if kinds[:4] != ["con", "affine", "relu", "max_pool"]:
        raise fail("expected CONV AFFINE RELU MAXPOOL first")
    stem = Sequential(layers[0][1], layers[1][1], ReLU(), layers[3][1])
    i, blocks = 4, []
    while kinds[i:i + 5] == BLOCK:
        tail = kinds[i + 5:i + 8]
        if tail[:2] == ["add_prev", "relu"]:
            pool, step = None, 7
        elif tail == ["avg_pool", "add_prev", "relu"]:
            pool, step = layers[i + 5][1], 8
        else:
            raise fail(f"a residual block ends in {' '.join(tail)}")
        blocks.append(ResidualBlock(layers[i][1], layers[i + 1][1], layers[i + 3][1], layers[i + 4][1],
                                    pool))
        i += step
    if kinds[i:] != ["avg_pool_all", "fc"]:
        raise fail(f"expected the global average pool and the FC layer after {len(blocks)} blocks")
    return DlibFaceNet(mean, stem, blocks, layers[i + 1][1], size)
