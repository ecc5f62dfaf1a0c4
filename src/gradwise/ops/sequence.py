"""The functional side of the sequence models: embedding lookup, layer norm, attention.

These are gradwise.functional's F.embedding, F.layer_norm and F.scaled_dot_product_attention;
they check their arguments here, at the public boundary, and call the ops (Embedding,
LayerNorm) or compose them (attention is matmul, softmax and an added mask).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor, as_tensor, to_numpy
from . import matmul, softmax
from .dropout import Dropout
from .embedding import Embedding
from .normalization import LayerNorm


def embedding(indices, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """weight[indices]: the rows of the embedding matrix E (V, D) for integer indices of any
    shape, giving (*indices.shape, D). The row padding_idx gets no gradient."""
    idx = to_numpy(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
    V = weight.shape[0]
    if idx.size and (idx.min() < -V or idx.max() >= V):
        raise IndexError(f"embedding: indices must lie in [0, {V}) for a weight of shape "
                         f"{weight.shape}, got values in [{idx.min()}, {idx.max()}]")
    return Embedding(idx, padding_idx)(weight)


def layer_norm(X: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each example over its last len(normalized_shape) axes, then gamma xhat + beta
    (weight = gamma and bias = beta, both of normalized_shape, optional)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if X.shape[X.ndim - len(shape):] != shape or len(shape) > X.ndim:
        raise ValueError(f"layer_norm: input of shape {X.shape} does not end in the normalized "
                         f"shape {shape}")
    params = [p for p in (weight, bias) if p is not None]
    for name, p in zip(("weight", "bias"), (weight, bias)):
        if p is not None and p.shape != shape:
            raise ValueError(f"layer_norm: {name} has shape {p.shape}, expected {shape}")
    if bias is not None and weight is None:
        params = [as_tensor(np.ones(shape, dtype=X.dtype)), bias]
    return LayerNorm(len(shape), eps)(X, *params)


def causal_mask(L: int, S: int | None = None) -> np.ndarray:
    """(L, S) boolean, True where query i may attend to key j: j <= i (no peeking ahead)."""
    S = L if S is None else S
    return np.tril(np.ones((L, S), dtype=bool))


def additive_mask(mask, dtype, name: str) -> np.ndarray:
    """A mask as the term added to the scores: a boolean one (True = may attend) becomes 0 or
    -inf; a float one is added as it is."""
    m = to_numpy(mask)
    if m.dtype == bool:
        return np.where(m, 0.0, -np.inf).astype(dtype)
    if m.dtype.kind != "f":
        raise TypeError(f"{name}: attn_mask must be boolean or floating, got dtype {m.dtype}")
    return m.astype(dtype, copy=False)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                                 need_weights: bool = False, generator=None):
    """softmax(Q K^T / sqrt(d_k) + M) V, as torch.nn.functional.scaled_dot_product_attention.

    query (..., L, d_k), key (..., S, d_k), value (..., S, d_v) -> (..., L, d_v); the leading
    axes (batch, heads) broadcast. The scores of query i against key j are divided by
    sqrt(d_k) (or multiplied by `scale`) so that their spread does not grow with d_k and
    push the softmax into its flat tails.

    attn_mask, broadcastable to (..., L, S): boolean, True where query i may attend to key j
    (PyTorch's convention here; nn.MultiheadAttention's boolean masks mean the opposite), or a
    float mask added to the scores (-inf blocks). is_causal: the mask j <= i. A query that may
    attend to nothing gets NaN, as in PyTorch. dropout_p drops attention weights (from
    `generator`, by default gradwise's global one); pass 0 when evaluating.
    need_weights=True returns (output, weights), weights of shape (..., L, S).
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} needs (..., length, features), "
                             f"got {t.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and "
                         f"value {value.shape} do not fit: need (..., L, d_k), (..., S, d_k), (..., S, d_v)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = causal_mask(L, S)
    if attn_mask is not None:
        M = additive_mask(attn_mask, scores.dtype, "scaled_dot_product_attention")
        try:
            np.broadcast_shapes(M.shape, scores.shape)
        except ValueError:
            raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {M.shape} does not "
                             f"broadcast to the scores' shape {scores.shape}") from None
        scores = scores + Tensor(M)
    weights = softmax(scores, axis=-1)
    if dropout_p > 0.0:
        rng = backend.rng() if generator is None else generator
        keep = rng.random(weights.shape, dtype=np.float32) >= dropout_p
        weights = Dropout(keep.astype(weights.dtype) / weights.dtype.type(1 - dropout_p))(weights)
    out = matmul(weights, value)
    return (out, weights) if need_weights else out


__all__ = ["embedding", "layer_norm", "scaled_dot_product_attention", "causal_mask", "additive_mask"]
