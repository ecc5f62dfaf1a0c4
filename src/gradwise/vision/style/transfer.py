"""Neural style transfer: the generated image G optimized, pixel by pixel, so that a CNN sees
in it the content of a content image C and the style of a style image S (costs.py).

The gradient dJ/dG flows back through the network to the input (the network's own weights
are fixed). The pixels are optimized by L-BFGS within [0, 1] (Gatys et al.) or by Adam and
clipping to [0, 1] (the course). G starts as the content image plus uniform noise in
[-0.25, 0.25] (the course) or as white noise (Gatys et al.). Layers, weights and choices
that differ from the course are stated where they are set (STYLE_LAYERS, StyleConfig).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ... import backend, optim
from ...autograd import no_grad
from ...tensor import Tensor, to_numpy
from ..image_files import from_batch, to_batch
from .costs import STYLE_LAYERS, check_layers, content_cost, style_cost, total_cost, total_variation
from .features import FeatureNet

CONTENT_LAYER = "conv3_2"
INITS = ("content", "noise")
OPTIMIZERS = ("lbfgs", "adam")


@dataclass(frozen=True)
class StyleConfig:
    """What transfer_style minimizes, and how.

    J = alpha J_content + beta J_style + tv_weight J_tv is minimized for `iterations` steps by
        'lbfgs': L-BFGS with the pixels bounded to [0, 1] (Gatys et al.; scipy's L-BFGS-B),
            no learning rate to choose;
        'adam': the course's Adam with learning rate lr on pixel values in [0, 1], the
            pixels clipped to [0, 1] after each step.
    J_content compares the activations of `content_layer`; J_style weighs the layers of
    `style_layers`, (name, lambda) pairs. init: 'content' (content plus uniform noise in
    [-0.25, 0.25], clipped: the course) or 'noise' (uniform in [0, 1]: Gatys et al.), drawn
    from a generator seeded with `seed`.

    The weights: the course's alpha = 10, beta = 40 balance the activations of a trained
    VGG-19; on FeatureNet's random activations they leave only a faint style, so beta
    defaults to 400. tv_weight J_tv (see total_variation) removes pixel noise; alpha=10,
    beta=40, tv_weight=0 is the course's cost exactly.
    """

    iterations: int = 200
    alpha: float = 10.0
    beta: float = 400.0
    tv_weight: float = 0.01
    optimizer: str = "lbfgs"
    lr: float = 0.02
    content_layer: str = CONTENT_LAYER
    style_layers: tuple = STYLE_LAYERS
    init: str = "content"
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.iterations, (int, np.integer)) or self.iterations < 1:
            raise ValueError(f"StyleConfig: iterations must be a positive integer, got {self.iterations!r}")
        if self.init not in INITS:
            raise ValueError(f"StyleConfig: init must be one of {INITS}, got {self.init!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"StyleConfig: optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("alpha", "beta", "lr", "tv_weight"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"StyleConfig: {name} must be a finite number >= 0, got {v!r}")
        object.__setattr__(self, "style_layers", check_layers(self.style_layers))


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
    x = to_numpy(x)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"transfer_style: the {name} image must be (H, W, 3), got {x.shape}")
    if x.dtype.kind != "f" or not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError(f"transfer_style: the {name} image must hold floats in [0, 1] "
                         f"(see gradwise.vision.load_image)")
    return x


def transfer_style(content, style, config: StyleConfig = StyleConfig(), *,
                   net: FeatureNet | None = None, progress: bool = True,
                   callback=None) -> StyleResult:
    """Optimize an image with the content of `content` and the style of `style`, both
    (H, W, 3) floats in [0, 1] of the same size (load_image(path, size) gives that), as
    `config` says (StyleConfig: the weights, the optimizer, the layers, the start):

        result = transfer_style(C, S, StyleConfig(iterations=50, optimizer="adam", lr=0.05))

    net: the feature network (default: FeatureNet()). A tqdm bar shows the costs when
    `progress`; callback(i, image) is called after each step. The result's J, J_content,
    J_style hold the costs at the start and after each step.
    """
    C, S = _image("content", content), _image("style", style)
    if C.shape != S.shape:
        raise ValueError(f"transfer_style: content {C.shape} and style {S.shape} must have the "
                         f"same size; load them with load_image(path, size=(H, W))")
    if not isinstance(config, StyleConfig):
        raise TypeError(f"transfer_style: config must be a StyleConfig, got {type(config).__name__}")
    net = net if net is not None else FeatureNet()
    content_layer, style_layers = config.content_layer, config.style_layers
    layers = list(dict.fromkeys([content_layer] + [n for n, _ in style_layers]))
    dtype = backend.get_default_dtype()

    with no_grad():                                   # the targets are constants
        a_C = net(Tensor(to_batch(C, dtype)), [content_layer])[content_layer]
        a_S = net(Tensor(to_batch(S, dtype)), [n for n, _ in style_layers])

    G0 = _start(C, config)
    G = Tensor(to_batch(G0, dtype), requires_grad=True)

    def costs():
        a_G = net(G, layers)
        J_content = content_cost(a_C, a_G[content_layer])
        J_style = style_cost(a_S, a_G, style_layers)
        J = total_cost(J_content, J_style, alpha=config.alpha, beta=config.beta)
        if config.tv_weight:
            J = J + config.tv_weight * total_variation(G)
        return J, J_content, J_style

    result = StyleResult(image=G0)
    bar = _bar(config.iterations, progress)

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
    run = _adam if config.optimizer == "adam" else _lbfgs
    try:
        run(G, costs, iterations=config.iterations, lr=config.lr, record=record,
            step_done=step_done)
    finally:
        if bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - start
    result.image = from_batch(G.data).astype(np.float32).copy()
    return result


def _start(C: np.ndarray, config: StyleConfig) -> np.ndarray:
    """The generated image's first value, as config.init says."""
    rng = np.random.default_rng(config.seed)
    if config.init == "content":
        return np.clip(C + rng.uniform(-0.25, 0.25, C.shape), 0.0, 1.0)
    return rng.uniform(0.0, 1.0, C.shape)


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
