"""Neural style transfer (Gatys, Ecker and Bethge 2015; the course's "Art Generation").

A generated image G is optimized, pixel by pixel, so that a CNN sees in it the content of
a content image C and the style of a style image S. With a[l] the activations (n_H, n_W,
n_C) of layer l:

    J_content(C, G) = 1 / (4 n_H n_W n_C) sum (a[l](C) - a[l](G))^2         one layer

    Gram matrix     G[l] = A A^T, A = a[l] unrolled to (n_C, n_H n_W): G_kk' is how much
                    channels k and k' fire together, wherever in the image: style is the
                    statistics of features, not their places.
    J_style[l](S, G) = 1 / (4 n_C^2 (n_H n_W)^2) sum (G[l](S) - G[l](G))^2
    J_style(S, G)    = sum over layers of lambda[l] J_style[l](S, G)

    J(G) = alpha J_content(C, G) + beta J_style(S, G)      (+ tv_weight J_tv, optional)

The gradient dJ/dG flows back through the network to the input (the network's own weights
are fixed). The pixels are optimized by L-BFGS within [0, 1] (Gatys et al.) or by Adam and
clipping to [0, 1] (the course). G starts as the content image plus uniform noise in
[-0.25, 0.25] (the course) or as white noise (Gatys et al.). Layers, weights and choices
that differ from the course are stated where they are set (STYLE_LAYERS, transfer_style).

The feature network: gradwise ships no pretrained weights, and no dataset of colour photos
is at hand to train one (MNIST and Fashion-MNIST are 28 x 28 grey digits and clothes; the
course's h5 sets hold a few hundred 64 x 64 images), so `FeatureNet` is a VGG-style stack of
3x3 convolutions and ReLUs with fixed random weights (He-normal, a fixed seed). Random
convolutional features are enough for this method: their Gram matrices capture colour and
local texture (Ustyuzhaninov et al. 2017, "What does it take to generate natural
textures?"; He, Wang and Hopcroft 2016, "A powerful generative model using random weights
for the deep image representation"), and shallow random features keep the spatial layout
that the content cost needs. What they lack compared with a trained VGG-19 is semantic
content: the output keeps the content image's shapes and edges, restyled in the style's
colours and textures, rather than re-painting objects as objects. Average pooling replaces
max pooling, as Gatys et al. recommend for image synthesis.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import backend, optim
from .. import functional as F
from ..autograd import no_grad
from ..nn import Module
from ..tensor import Tensor
from .image_files import from_batch, to_batch

# the course's STYLE_LAYERS weigh five layers by 0.2; this network has four blocks
STYLE_LAYERS = (("conv1_1", 0.25), ("conv2_1", 0.25), ("conv3_1", 0.25), ("conv4_1", 0.25))
CONTENT_LAYER = "conv3_2"
INITS = ("content", "noise")
OPTIMIZERS = ("lbfgs", "adam")


# ---- the costs ------------------------------------------------------------------------------
def _check_pair(name: str, a: Tensor, b: Tensor) -> None:
    if a.ndim != 4:
        raise ValueError(f"{name}: activations must be (m, n_C, n_H, n_W), got {a.shape}")
    if a.shape != b.shape:
        raise ValueError(f"{name}: activations of the two images differ in shape: {a.shape} "
                         f"and {b.shape}")


def content_cost(a_C: Tensor, a_G: Tensor) -> Tensor:
    """J_content = 1 / (4 n_H n_W n_C) sum (a_C - a_G)^2 over one layer's activations
    (m, n_C, n_H, n_W) of the content and generated images (summed over m; m = 1 here)."""
    _check_pair("content_cost", a_C, a_G)
    _, n_C, n_H, n_W = a_G.shape
    diff = a_C - a_G
    return (diff * diff).sum() / (4.0 * n_H * n_W * n_C)


def gram_matrix(A: Tensor) -> Tensor:
    """G = A A^T for activations (m, n_C, n_H, n_W): A unrolled to (m, n_C, n_H n_W), the
    result (m, n_C, n_C)."""
    if A.ndim != 4:
        raise ValueError(f"gram_matrix: activations must be (m, n_C, n_H, n_W), got {A.shape}")
    m, n_C, n_H, n_W = A.shape
    A = A.reshape(m, n_C, n_H * n_W)
    return A @ A.transpose(1, 2)


def layer_style_cost(a_S: Tensor, a_G: Tensor) -> Tensor:
    """J_style[l] = 1 / (4 n_C^2 (n_H n_W)^2) sum (G_S - G_G)^2 for one layer's activations
    (m, n_C, n_H, n_W) of the style and generated images."""
    _check_pair("layer_style_cost", a_S, a_G)
    _, n_C, n_H, n_W = a_G.shape
    diff = gram_matrix(a_S) - gram_matrix(a_G)
    return (diff * diff).sum() / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)


def style_cost(a_S: dict, a_G: dict, style_layers=STYLE_LAYERS) -> Tensor:
    """J_style = sum over (layer, lambda) in style_layers of lambda J_style[layer], with a_S
    and a_G the activations of the style and generated images by layer name."""
    style_layers = _check_layers(style_layers)
    J = None
    for name, weight in style_layers:
        for feats, which in ((a_S, "style"), (a_G, "generated")):
            if name not in feats:
                raise KeyError(f"style_cost: no activations of layer {name!r} for the {which} "
                               f"image (have {sorted(feats)})")
        J_layer = weight * layer_style_cost(a_S[name], a_G[name])
        J = J_layer if J is None else J + J_layer
    return J


def total_cost(J_content: Tensor, J_style: Tensor, alpha: float = 10.0, beta: float = 40.0) -> Tensor:
    """J = alpha J_content + beta J_style (the course's alpha = 10, beta = 40)."""
    return alpha * J_content + beta * J_style


def total_variation(X: Tensor) -> Tensor:
    """J_tv = (sum (X[h+1, w] - X[h, w])^2 + sum (X[h, w+1] - X[h, w])^2) / (m n_H n_W) for
    images (m, C, n_H, n_W): the squared differences between neighbouring pixels, per pixel.
    Not part of the course's cost; a small weight of it removes the pixel noise that the
    Gram matrices of a random network leave (the Keras example of style transfer uses such
    a term too)."""
    if X.ndim != 4:
        raise ValueError(f"total_variation: images must be (m, C, H, W), got {X.shape}")
    m, _, n_H, n_W = X.shape
    dh = X[:, :, 1:, :] - X[:, :, :-1, :]
    dw = X[:, :, :, 1:] - X[:, :, :, :-1]
    return ((dh * dh).sum() + (dw * dw).sum()) / (m * n_H * n_W)


def _check_layers(style_layers) -> tuple:
    try:
        layers = tuple((str(name), float(w)) for name, w in style_layers)
    except (TypeError, ValueError):
        raise ValueError(f"style_layers must be (layer name, weight) pairs, got {style_layers!r}") from None
    if not layers:
        raise ValueError("style_layers: give at least one (layer name, weight) pair")
    for name, w in layers:
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"style_layers: the weight of {name!r} must be a finite number >= 0, "
                             f"got {w}")
    return layers


# ---- the feature network --------------------------------------------------------------------
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
        from ..nn import Conv2d

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
        for j, name in enumerate(self.layer_names[:depth + 1]):
            block, k = (int(s) for s in name[4:].split("_"))
            if k == 1 and block > 1:
                A = F.avg_pool2d(A, 2)
            A = F.relu(getattr(self, name)(A))
            if name in wanted:
                out[name] = A
        return out


# ---- the optimization -----------------------------------------------------------------------
@dataclass
class StyleResult:
    """The generated image (H, W, 3) in [0, 1] and the costs at the start and after each
    step: J, the cost minimized (alpha J_content + beta J_style + tv_weight J_tv), and its
    two parts. L-BFGS may stop early (no step lowers J), leaving fewer entries."""

    image: np.ndarray
    J: list = field(default_factory=list)
    J_content: list = field(default_factory=list)
    J_style: list = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{len(self.J) - 1} iterations in {self.seconds:.1f} s: J {self.J[0]:.4g} -> "
                f"{self.J[-1]:.4g}, J_content {self.J_content[0]:.4g} -> {self.J_content[-1]:.4g}, "
                f"J_style {self.J_style[0]:.4g} -> {self.J_style[-1]:.4g}")


def _image(name: str, x) -> np.ndarray:
    x = np.asarray(x.data if isinstance(x, Tensor) else x)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"transfer_style: the {name} image must be (H, W, 3), got {x.shape}")
    if x.dtype.kind != "f" or not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError(f"transfer_style: the {name} image must hold floats in [0, 1] "
                         f"(see gradwise.vision.load_image)")
    return x


def transfer_style(content, style, iterations: int = 200, alpha: float = 10.0,
                   beta: float = 400.0, optimizer: str = "lbfgs", lr: float = 0.02,
                   content_layer: str = CONTENT_LAYER, style_layers=STYLE_LAYERS,
                   init: str = "content", net: FeatureNet | None = None, seed: int = 0,
                   progress: bool = True, callback=None, tv_weight: float = 0.01) -> StyleResult:
    """Optimize an image with the content of `content` and the style of `style`, both
    (H, W, 3) floats in [0, 1] of the same size (load_image(path, size) gives that).

    J = alpha J_content + beta J_style is minimized for `iterations` steps by
        'lbfgs': L-BFGS with the pixels bounded to [0, 1] (Gatys et al.; scipy's L-BFGS-B),
            no learning rate to choose;
        'adam': the course's Adam with learning rate lr on pixel values in [0, 1], the
            pixels clipped to [0, 1] after each step.
    (On the 128 x 128 example images both reach J = 0.046-0.047 from 0.28 in 200 steps; at
    32 x 32, 30 steps, L-BFGS gets 0.030 and Adam 0.040 with lr 0.05, 0.059 with 0.02.)
    init: 'content' (content plus uniform noise in [-0.25, 0.25], clipped: the course) or
    'noise' (uniform in [0, 1]: Gatys et al.).

    The weights: the course's alpha = 10, beta = 40 balance the activations of a trained
    VGG-19; on this network's activations they leave only a faint style (on the 128 x 128
    example images J_style only halves, 6.9e-4 to 3.3e-4, against 1.8e-5 with beta = 400),
    so beta defaults to 400. tv_weight adds
    tv_weight J_tv (see total_variation) against pixel noise; alpha=10, beta=40,
    tv_weight=0 is the course's cost exactly. A tqdm bar shows the costs when `progress`;
    callback(i, image) is called after each step. The result's J, J_content, J_style hold
    the costs at the start and after each step.
    """
    C, S = _image("content", content), _image("style", style)
    if C.shape != S.shape:
        raise ValueError(f"transfer_style: content {C.shape} and style {S.shape} must have the "
                         f"same size; load them with load_image(path, size=(H, W))")
    if not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ValueError(f"transfer_style: iterations must be a positive integer, got {iterations!r}")
    if init not in INITS:
        raise ValueError(f"transfer_style: init must be one of {INITS}, got {init!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"transfer_style: optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    for v, name in ((alpha, "alpha"), (beta, "beta"), (lr, "lr"), (tv_weight, "tv_weight")):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"transfer_style: {name} must be a finite number >= 0, got {v!r}")
    style_layers = _check_layers(style_layers)
    net = net if net is not None else FeatureNet()
    layers = list(dict.fromkeys([content_layer] + [n for n, _ in style_layers]))
    dtype = backend.get_default_dtype()

    with no_grad():                                   # the targets are constants
        a_C = net(Tensor(to_batch(C, dtype)), [content_layer])[content_layer]
        a_S = net(Tensor(to_batch(S, dtype)), [n for n, _ in style_layers])

    rng = np.random.default_rng(seed)
    if init == "content":
        G0 = np.clip(C + rng.uniform(-0.25, 0.25, C.shape), 0.0, 1.0)
    else:
        G0 = rng.uniform(0.0, 1.0, C.shape)
    G = Tensor(to_batch(G0, dtype), requires_grad=True)

    def costs():
        a_G = net(G, layers)
        J_content = content_cost(a_C, a_G[content_layer])
        J_style = style_cost(a_S, a_G, style_layers)
        J = total_cost(J_content, J_style, alpha, beta)
        if tv_weight:
            J = J + tv_weight * total_variation(G)
        return J, J_content, J_style

    result = StyleResult(image=G0)
    bar = _bar(iterations, progress)

    def record(J, J_content, J_style):
        result.J.append(float(J.data))
        result.J_content.append(float(J_content.data))
        result.J_style.append(float(J_style.data))
        if not math.isfinite(result.J[-1]):
            raise FloatingPointError(f"transfer_style: the cost became {result.J[-1]} after "
                                     f"{len(result.J) - 1} steps; lower lr, alpha or beta")

    def step_done(i):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(J=f"{result.J[-1]:.3g}", content=f"{result.J_content[-1]:.3g}",
                            style=f"{result.J_style[-1]:.3g}", refresh=False)
        if callback is not None:
            callback(i, from_batch(G.data).copy())

    start = time.perf_counter()
    try:
        (_adam if optimizer == "adam" else _lbfgs)(G, costs, iterations, lr, record, step_done)
    finally:
        if bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - start
    result.image = from_batch(G.data).astype(np.float32).copy()
    return result


def _adam(G, costs, iterations, lr, record, step_done):
    """The course's loop: Adam on the pixels, then clip them to [0, 1]."""
    optimizer = optim.Adam([G], lr=lr)
    for i in range(iterations):
        J, J_content, J_style = costs()
        record(J, J_content, J_style)                 # the costs before step i
        optimizer.zero_grad()
        J.backward()
        optimizer.step()
        with no_grad():
            np.clip(G.data, 0.0, 1.0, out=G.data)
        step_done(i)
    with no_grad():
        record(*costs())                              # and after the last one


def _lbfgs(G, costs, iterations, lr, record, step_done):
    """Gatys et al.'s optimizer: L-BFGS with the pixels bounded to [0, 1] (scipy's
    L-BFGS-B, in float64); J and dJ/dG come from gradwise in the network's dtype. The costs
    are recorded at the start and at each accepted iterate."""
    from scipy.optimize import Bounds, minimize

    shape = G.shape
    tried = {}                                        # the last point J was computed at

    def fun(x):
        G.data[...] = x.reshape(shape)
        G.grad = None
        J, J_content, J_style = costs()
        J.backward()
        tried.update(x=x.copy(), costs=(J, J_content, J_style))
        if "x" not in recorded:
            record(J, J_content, J_style)             # the costs at the start
            recorded["x"] = tried["x"]
        return float(J.data), G.grad.ravel().astype(np.float64)

    def after_iteration(intermediate_result):
        x = intermediate_result.x
        if not np.array_equal(x, tried["x"]):         # the accepted point was not the last tried
            G.data[...] = x.reshape(shape)
            with no_grad():
                tried.update(x=x.copy(), costs=costs())
        record(*tried["costs"])
        recorded["x"] = tried["x"]
        step_done(len(steps))
        steps.append(1)

    recorded, steps = {}, []
    res = minimize(fun, G.data.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                   bounds=Bounds(0.0, 1.0), callback=after_iteration,
                   options={"maxiter": iterations, "maxfun": 2 * iterations, "ftol": 0.0,
                            "gtol": 0.0})
    G.data[...] = res.x.reshape(shape)
    if not np.array_equal(res.x, recorded["x"]):      # so that J[-1] is the result's cost
        with no_grad():
            record(*costs())


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="style transfer", unit="it", leave=True)


# ---- images to try it on --------------------------------------------------------------------
def example_content(size: int = 128) -> np.ndarray:
    """A synthetic content image (size, size, 3): a house with a red roof, a door and two
    windows, a sun, on a sky-to-grass background. Shapes with clear edges, so that one can
    see what of them the transfer keeps."""
    n = int(size)
    y, x = np.mgrid[0:n, 0:n] / n
    img = np.empty((n, n, 3))
    img[...] = np.where((y < 0.7)[..., None], [0.55, 0.75, 0.95], [0.35, 0.65, 0.25])
    img[(x - 0.8) ** 2 + (y - 0.18) ** 2 < 0.01] = [1.0, 0.85, 0.2]               # sun
    wall = (x > 0.25) & (x < 0.7) & (y > 0.45) & (y < 0.8)
    img[wall] = [0.9, 0.85, 0.7]
    roof = (y > 0.22) & (y <= 0.45) & (np.abs(x - 0.475) < (y - 0.22) * 1.25)
    img[roof] = [0.75, 0.15, 0.1]
    img[(x > 0.42) & (x < 0.53) & (y > 0.6) & (y < 0.8)] = [0.4, 0.25, 0.1]        # door
    for x0 in (0.3, 0.57):                                                          # windows
        img[(x > x0) & (x < x0 + 0.08) & (y > 0.52) & (y < 0.6)] = [0.2, 0.3, 0.5]
    return img.astype(np.float32)


def example_style(size: int = 128, seed: int = 0) -> np.ndarray:
    """A synthetic style image (size, size, 3): a mosaic of Voronoi cells in a blue, yellow
    and orange palette, each cell with its own stripes, separated by dark joints, so that
    colours, strokes and edges of the style are easy to recognize in the output."""
    n = int(size)
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, n, (max(8, (n // 16) ** 2), 2))
    y, x = np.mgrid[0:n, 0:n]
    d = (y[..., None] - pts[:, 0]) ** 2 + (x[..., None] - pts[:, 1]) ** 2
    order = np.sort(d, axis=-1)
    cell = d.argmin(axis=-1)
    palette = np.array([[0.1, 0.2, 0.55], [0.2, 0.45, 0.8], [0.95, 0.8, 0.2],
                        [0.95, 0.5, 0.1], [0.15, 0.35, 0.3]])
    colour = palette[rng.integers(len(palette), size=len(pts))][cell]
    angle = rng.uniform(0, np.pi, len(pts))[cell]
    stripes = 0.5 + 0.5 * np.sin((x * np.cos(angle) + y * np.sin(angle)) * 0.9)
    img = colour * (0.75 + 0.25 * stripes[..., None])
    joint = np.sqrt(order[..., 1]) - np.sqrt(order[..., 0]) < 1.5
    img[joint] = [0.05, 0.05, 0.08]
    return np.clip(img, 0, 1).astype(np.float32)
