"""Neural style transfer (Gatys, Ecker and Bethge 2015; the course's "Art Generation"): an
image optimized so that a CNN sees in it the content of one image and the style of another.

    costs       J_content, the Gram matrix, J_style, the total cost, total variation
    features    FeatureNet, the VGG-style network with fixed random weights
    transfer    StyleConfig and transfer_style, the optimization of the pixels
    examples    a house and a mosaic to try it on

    result = transfer_style(load_image("c.png", 128), load_image("s.png", (128, 128)),
                            StyleConfig(iterations=200))
"""
from .costs import (
    STYLE_LAYERS,
    content_cost,
    gram_matrix,
    layer_style_cost,
    style_cost,
    total_cost,
    total_variation,
)
from .examples import example_content, example_style
from .features import FeatureNet
from .transfer import CONTENT_LAYER, StyleConfig, StyleResult, transfer_style

__all__ = [
    "FeatureNet", "content_cost", "gram_matrix", "layer_style_cost", "style_cost", "total_cost",
    "total_variation", "transfer_style", "StyleConfig", "StyleResult", "example_content",
    "example_style", "STYLE_LAYERS", "CONTENT_LAYER",
]
