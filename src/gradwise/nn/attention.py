"""Multi-head attention and the Transformer encoder block.

    head_i = softmax(Q_i K_i^T / sqrt(d) + M) V_i,    Q_i = query W_q,i^T + b_q,i  (same for K, V)
    MultiHead(query, key, value) = concat(head_1, ..., head_h) W_o^T + b_o

PyTorch's layout: in_proj_weight (3E, E) stacks W_q, W_k, W_v; in_proj_bias (3E,); out_proj a
Linear(E, E). Each head sees d = E / h features. The state dicts match torch.nn's names (the
out_proj's W, b are weight, bias under nn.torch_state_dict and nn.load_torch_state_dict).

Masks follow torch.nn.MultiheadAttention: a boolean attn_mask (L, S) or (N * heads, L, S) is
True where a query may NOT attend; key_padding_mask (N, S) is True at padding keys to ignore;
float masks are added to the scores. (F.scaled_dot_product_attention's boolean masks are the
other way round, True = may attend, as in PyTorch.)
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .. import functional as F
from ..ops.sequence import additive_mask
from ..tensor import Tensor
from . import init
from .layers import Dropout, LayerNorm, Linear
from .module import Module, Parameter


class MultiheadAttention(Module):
    """forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None).

    query (L, N, E), key and value (S, N, E); (N, L, E) and (N, S, E) with batch_first=True.
    output has the query's shape; weights are (N, L, S) averaged over the heads, or
    (N, heads, L, S) with average_attn_weights=False.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be a positive multiple "
                             f"of num_heads {num_heads}")
        dtype = dtype or backend.get_default_dtype()
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        init.xavier_uniform_(self.in_proj_weight)        # PyTorch's choice, over the stacked (3E, E)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.b)

    def _name(self) -> str:
        return f"MultiheadAttention({self.embed_dim}, heads={self.num_heads})"

    def _heads(self, X: Tensor, i: int) -> Tensor:
        """(N, T, E) -> the i-th projection (q, k or v) split into heads, (N, heads, T, d)."""
        E = self.embed_dim
        W = self.in_proj_weight[i * E:(i + 1) * E]
        b = None if self.in_proj_bias is None else self.in_proj_bias[i * E:(i + 1) * E]
        N, T = X.shape[:2]
        return F.linear(X, W, b).reshape(N, T, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask(self, attn_mask, key_padding_mask, is_causal, N, L, S, dtype):
        """One additive mask, broadcastable to the scores (N, heads, L, S), or None."""
        M = None
        if is_causal and attn_mask is None:
            attn_mask = ~np.tril(np.ones((L, S), dtype=bool))
        if attn_mask is not None:
            m = np.asarray(getattr(attn_mask, "data", attn_mask))
            ok = {(L, S), (N * self.num_heads, L, S)}
            if m.shape not in ok:
                raise ValueError(f"{self._name()}: attn_mask must have shape {(L, S)} or "
                                 f"{(N * self.num_heads, L, S)}, got {m.shape}")
            M = additive_mask(~m if m.dtype == bool else m, dtype, self._name())
            M = M.reshape(N, self.num_heads, L, S) if M.ndim == 3 else M
        if key_padding_mask is not None:
            k = np.asarray(getattr(key_padding_mask, "data", key_padding_mask))
            if k.shape != (N, S):
                raise ValueError(f"{self._name()}: key_padding_mask must have shape {(N, S)}, got {k.shape}")
            K = additive_mask(~k if k.dtype == bool else k, dtype, self._name())[:, None, None, :]
            M = K if M is None else M + K
        return M

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        E = self.embed_dim
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != E:
                layout = "(N, T, E)" if self.batch_first else "(T, N, E)"
                raise ValueError(f"{self._name()}: {name} must be {layout} with E = {E}, got {t.shape}")
        if not self.batch_first:  # heads work batch first
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        N, L, S = query.shape[0], query.shape[1], key.shape[1]
        if key.shape[:2] != (N, S) or value.shape[:2] != (N, S):
            raise ValueError(f"{self._name()}: key {key.shape} and value {value.shape} must share "
                             f"their batch and length axes with each other and the query's batch")
        Q, K, V = self._heads(query, 0), self._heads(key, 1), self._heads(value, 2)
        M = self._mask(attn_mask, key_padding_mask, is_causal, N, L, S, Q.dtype)
        p = self.dropout if self.training else 0.0
        out, weights = F.scaled_dot_product_attention(Q, K, V, M, dropout_p=p, need_weights=True)
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))
        if not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        return out, (weights.mean(axis=1) if average_attn_weights else weights)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


class TransformerEncoderLayer(Module):
    """Self-attention and a position-wise feed-forward network, each wrapped in a residual
    connection and layer norm ("Attention is all you need"; torch.nn.TransformerEncoderLayer):

        norm_first=False:  x = norm1(x + SA(x));   x = norm2(x + FF(x))
        norm_first=True:   x = x + SA(norm1(x));   x = x + FF(norm2(x))
        FF(x) = linear2(dropout(activation(linear1(x))))

    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False): src (T, N, d_model),
    or (N, T, d_model) with batch_first=True; masks as MultiheadAttention's.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None):
        super().__init__()
        if activation != "relu" and not callable(activation):
            raise ValueError(f"TransformerEncoderLayer: activation must be 'relu' or a function, got {activation!r}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first, dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first, self.activation = norm_first, activation
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)

    def _sa(self, x, mask, padding, is_causal):
        out, _ = self.self_attn(x, x, x, key_padding_mask=padding, attn_mask=mask,
                                need_weights=False, is_causal=is_causal)
        return self.dropout1(out)

    def _ff(self, x):
        act = F.relu if self.activation == "relu" else self.activation
        return self.dropout2(self.linear2(self.dropout(act(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff(x))

