"""Layers and networks: Module, Parameter, containers, dense layers and init schemes."""
from . import init
from .attention import MultiheadAttention, TransformerEncoderLayer
from .containers import ModuleList, Sequential
from .conv import AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d, ZeroPad2d
from .embedding import Embedding, PositionalEncoding, sinusoidal_encoding
from .layers import (
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, detach_state
from .torch_names import from_torch_names, load_torch_state_dict, torch_state_dict

__all__ = [
    "init", "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Flatten",
    "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax", "Softplus",
    "Dropout", "BatchNorm1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "ZeroPad2d", "BatchNorm2d", "torch_state_dict", "load_torch_state_dict", "from_torch_names",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "detach_state", "Embedding",
    "PositionalEncoding", "sinusoidal_encoding", "LayerNorm", "MultiheadAttention",
    "TransformerEncoderLayer",
]
