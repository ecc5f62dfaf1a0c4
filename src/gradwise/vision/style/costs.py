"""The costs of neural style transfer (Gatys, Ecker and Bethge 2015; the course's "Art
Generation"). With a[l] the activations (n_H, n_W, n_C) of layer l:

    J_content(C, G) = 1 / (4 n_H n_W n_C) sum (a[l](C) - a[l](G))^2         one layer

    Gram matrix     G[l] = A A^T, A = a[l] unrolled to (n_C, n_H n_W): G_kk' is how much
                    channels k and k' fire together, wherever in the image: style is the
                    statistics of features, not their places.
    J_style[l](S, G) = 1 / (4 n_C^2 (n_H n_W)^2) sum (G[l](S) - G[l](G))^2
    J_style(S, G)    = sum over layers of lambda[l] J_style[l](S, G)

    J(G) = alpha J_content(C, G) + beta J_style(S, G)      (+ tv_weight J_tv, optional)
"""
from __future__ import annotations

import math

from ...tensor import Tensor

# the course's STYLE_LAYERS weigh five layers by 0.2; FeatureNet has four blocks
STYLE_LAYERS = (("conv1_1", 0.25), ("conv2_1", 0.25), ("conv3_1", 0.25), ("conv4_1", 0.25))


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
    style_layers = check_layers(style_layers)
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


def check_layers(style_layers) -> tuple:
    """(name, weight) pairs as a tuple of (str, float), each weight finite and >= 0."""
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
