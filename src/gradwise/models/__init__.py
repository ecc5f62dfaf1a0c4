"""The model zoo: classic architectures built from gradwise.nn."""
from .perceptron import GATE_WEIGHTS, XOR, Perceptron

__all__ = ["Perceptron", "XOR", "GATE_WEIGHTS"]
