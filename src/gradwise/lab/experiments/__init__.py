"""Each module registers its experiments with @experiment when imported."""
from . import gradcheck, perceptron  # noqa: F401
