"""Word (or character) embeddings and the Transformer's sinusoidal positional encoding."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import functional as F
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim: the course's embedding
    matrix E, one row e_v per word v (E o_v in the lecture, with E stored transposed).

    forward(indices of any shape) -> (*indices.shape, embedding_dim). weight (V, D) is drawn
    from N(0, 1), as in PyTorch; the row padding_idx starts at zero and is never updated.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=None):
        super().__init__()
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(f"Embedding: sizes must be positive, got ({num_embeddings}, {embedding_dim})")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding({num_embeddings}, {embedding_dim}): padding_idx "
                                 f"{padding_idx} is out of range")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype or backend.get_default_dtype()))
        init.normal_(self.weight, 0.0, 1.0)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    @property
    def E(self) -> Parameter:
        return self.weight

    def forward(self, indices) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


def sinusoidal_encoding(length: int, d_model: int, dtype=None) -> np.ndarray:
    """(length, d_model): PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),
    PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model)) ("Attention is all you need").
    Each pair of features turns at its own frequency, so position pos + k is a fixed rotation
    of position pos, whatever pos: attention can read relative positions from it."""
    pos = np.arange(length)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    PE = np.zeros((length, d_model))
    PE[:, 0::2] = np.sin(pos * freq)
    PE[:, 1::2] = np.cos(pos * freq[: d_model // 2])
    return PE.astype(dtype or backend.get_default_dtype())


class PositionalEncoding(Module):
    """x + PE[:T] (then dropout): adds the sinusoidal encoding of each position to a sequence
    of embeddings, (T, N, d_model), or (N, T, d_model) with batch_first=True. The table is a
    buffer that is not saved (it is a function of max_len and d_model)."""

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0,
                 batch_first: bool = False, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first, self.p = d_model, max_len, batch_first, dropout
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model, dtype), persistent=False)

    def forward(self, X: Tensor) -> Tensor:
        T = X.shape[1] if self.batch_first else X.shape[0]
        if X.ndim != 3 or X.shape[-1] != self.d_model or T > self.max_len:
            raise ValueError(f"PositionalEncoding(d_model={self.d_model}, max_len={self.max_len}): "
                             f"expected input {'(N, T, d_model)' if self.batch_first else '(T, N, d_model)'} "
                             f"with T <= max_len, got {X.shape}")
        pe = self.pe.data[:T]
        pe = pe[None] if self.batch_first else pe[:, None]
        return F.dropout(X + Tensor(pe.astype(X.dtype, copy=False)), self.p, self.training)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"
