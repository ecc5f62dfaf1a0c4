"""Recurrent layers: RNN, LSTM, GRU over whole sequences, and their cells for one step.

The course's notation beside PyTorch's (H hidden units, D input features):

    a<t> = tanh(Wax x<t> + Waa a<t-1> + ba)            RNN      Wax = weight_ih (H, D)
    LSTM: gates i, f, g, o stacked in weight_ih (4H, D), weight_hh (4H, H)
    GRU:  gates r, z, n stacked in weight_ih (3H, D), weight_hh (3H, H)
    ba = bias_ih + bias_hh (PyTorch keeps two bias vectors; the GRU needs both apart)

The equations and their backward are in gradwise.ops.recurrent. Parameters carry PyTorch's
names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse for the backward
direction), so torch_model.state_dict() loads with load_state_dict, and so does the reverse.

Shapes, as in PyTorch: input (T, N, D), or (N, T, D) with batch_first=True, or (T, D) for
one unbatched sequence; h_0 (layers * directions, N, H). RNN and GRU return
(output, h_n), LSTM returns (output, (h_n, c_n)); output holds the last layer's a<t> for every
t, (T, N, directions * H).

Truncated backpropagation through time: carry the state from one chunk of a long sequence
to the next, but cut the graph there, so that each backward stays one chunk long:

    state = None
    for X, Y in gradwise.data.bptt_batches(ids, batch_size=32, seq_len=25):
        out, state = lstm(embed(X), state)
        state = detach_state(state)          # keep the values, drop the history
        loss = F.cross_entropy(...); loss.backward(); ...
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import functional as F
from ..ops import concatenate, stack
from ..ops import recurrent as _ops
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def detach_state(state):
    """The hidden state (a tensor, or a tuple such as LSTM's (h, c)) cut from the graph: the
    step between two chunks of truncated backpropagation through time."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    return state.detach()


def _uniform(shape, H: int, dtype) -> Parameter:
    """PyTorch's initialization of every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    p = Parameter(np.empty(shape, dtype=dtype))
    k = 1.0 / math.sqrt(H)
    init.uniform_(p, -k, k)
    return p


def _run(mode: str, X, state, weights, nonlinearity="tanh"):
    """One layer, one direction, over X (T, N, D): (A (T, N, H), final state)."""
    if mode == "LSTM":
        a0, c0 = state
        Y = _ops.LSTM()(X, a0, c0, *weights)
        H = a0.shape[-1]
        return Y[..., :H], (Y[-1, :, :H], Y[-1, :, H:])
    A = (_ops.GRU() if mode == "GRU" else _ops.RNN(nonlinearity))(X, state, *weights)
    return A, A[-1]


class _Recurrent(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters per layer and direction, the
    layout of inputs and states, dropout between layers."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 nonlinearity: str = "tanh", dtype=None):
        super().__init__()
        name = type(self).__name__
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, got "
                             f"{input_size}, {hidden_size}, {num_layers}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional, self.nonlinearity = bidirectional, nonlinearity
        dtype = dtype or backend.get_default_dtype()
        kH, H = GATES[self.mode] * hidden_size, hidden_size
        self.directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            D = input_size if layer == 0 else H * self.directions
            for suffix in ("", "_reverse")[:self.directions]:
                setattr(self, f"weight_ih_l{layer}{suffix}", _uniform((kH, D), H, dtype))
                setattr(self, f"weight_hh_l{layer}{suffix}", _uniform((kH, H), H, dtype))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", _uniform((kH,), H, dtype))
                    setattr(self, f"bias_hh_l{layer}{suffix}", _uniform((kH,), H, dtype))

    def _weights(self, layer: int, suffix: str) -> list:
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        return [getattr(self, f"{n}_l{layer}{suffix}") for n in names]

    def _name(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _time_first(self, X: Tensor) -> tuple[Tensor, bool]:
        """X as (T, N, D), and whether it came without a batch axis."""
        if X.ndim not in (2, 3) or X.shape[-1] != self.input_size:
            layout = "(N, T, D)" if self.batch_first else "(T, N, D)"
            raise ValueError(f"{self._name()}: expected input {layout} or (T, D) with D = "
                             f"{self.input_size}, got {X.shape}")
        if X.ndim == 2:
            return X.unsqueeze(1), True
        return (X.transpose(0, 1) if self.batch_first else X), False

    def _initial(self, h, N: int, dtype, unbatched: bool, what: str = "h_0"):
        """The initial states as a list with one (N, H) tensor per layer and direction."""
        shape = (self.num_layers * self.directions, N, self.hidden_size)
        if h is None:
            zeros = Tensor(np.zeros(shape[1:], dtype=dtype))
            return [zeros] * shape[0]
        if unbatched and h.ndim == 2:
            h = h.unsqueeze(1)
        if h.shape != shape:
            raise ValueError(f"{self._name()}: expected {what} of shape {shape}, got {h.shape}")
        return [h[k] for k in range(shape[0])]

    def _states(self, state, N, dtype, unbatched):
        if self.mode != "LSTM":
            return self._initial(state, N, dtype, unbatched)
        h0, c0 = (None, None) if state is None else state
        return list(zip(self._initial(h0, N, dtype, unbatched),
                        self._initial(c0, N, dtype, unbatched, "c_0")))

    def forward(self, X: Tensor, state=None):
        X, unbatched = self._time_first(X)
        states = self._states(state, X.shape[1], X.dtype, unbatched)
        finals = []
        for layer in range(self.num_layers):
            if layer and self.dropout:
                X = F.dropout(X, self.dropout, self.training)
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:self.directions]):
                k = layer * self.directions + d
                inp = X[::-1] if d else X      # the backward direction reads the sequence reversed
                A, final = _run(self.mode, inp, states[k], self._weights(layer, suffix), self.nonlinearity)
                outputs.append(A[::-1] if d else A)
                finals.append(final)
            X = outputs[0] if len(outputs) == 1 else concatenate(outputs, axis=-1)
        output = X[:, 0] if unbatched else (X.transpose(0, 1) if self.batch_first else X)
        if self.mode == "LSTM":
            h_n, c_n = stack([f[0] for f in finals]), stack([f[1] for f in finals])
            return output, ((h_n[:, 0], c_n[:, 0]) if unbatched else (h_n, c_n))
        h_n = stack(finals)
        return output, (h_n[:, 0] if unbatched else h_n)

    def extra_repr(self) -> str:
        extra = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            extra.append(f"num_layers={self.num_layers}")
        for flag, default in (("batch_first", False), ("bidirectional", False), ("bias", True)):
            if getattr(self, flag) != default:
                extra.append(f"{flag}={getattr(self, flag)}")
        if self.dropout:
            extra.append(f"dropout={self.dropout}")
        return ", ".join(extra)


class RNN(_Recurrent):
    """Elman RNN: a<t> = tanh(Wax x<t> + Waa a<t-1> + ba) per layer (nonlinearity='relu' for
    max(0, .)). forward(input, h_0=None) -> (output, h_n). See the module docstring."""

    mode = "RNN"


class _Gated(_Recurrent):
    """LSTM and GRU: PyTorch's signature, which has no nonlinearity (the gates fix theirs)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)


class LSTM(_Gated):
    """Long short-term memory, gates i, f, g, o (PyTorch's order):
        c<t> = Gamma_f * c<t-1> + Gamma_i * tanh(z_g),   a<t> = Gamma_o * tanh(c<t>)
    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)). See the module docstring."""

    mode = "LSTM"


class GRU(_Gated):
    """Gated recurrent unit, gates r, z, n (PyTorch's order):
        a<t> = (1 - Gamma_z) * tanh(W_in x<t> + b_in + Gamma_r * (W_hn a<t-1> + b_hn)) + Gamma_z * a<t-1>
    (the course's update gate Gamma_u is 1 - Gamma_z). forward(input, h_0=None) -> (output, h_n)."""

    mode = "GRU"


# ---- cells: one time step ------------------------------------------------------------------
class _Cell(Module):
    """One step of a recurrent layer, for loops that decide each input themselves (sampling,
    a decoder fed its own attention context). Parameters weight_ih, weight_hh, bias_ih,
    bias_hh as torch.nn.RNNCell / LSTMCell / GRUCell; the course's Wax and Waa are
    weight_ih and weight_hh."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype=None):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: sizes must be positive, got ({input_size}, {hidden_size})")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{type(self).__name__}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.nonlinearity = nonlinearity
        dtype = dtype or backend.get_default_dtype()
        kH, H = GATES[self.mode] * hidden_size, hidden_size
        self.weight_ih = _uniform((kH, input_size), H, dtype)
        self.weight_hh = _uniform((kH, H), H, dtype)
        if bias:
            self.bias_ih = _uniform((kH,), H, dtype)
            self.bias_hh = _uniform((kH,), H, dtype)

    @property
    def Wax(self) -> Parameter:
        return self.weight_ih

    @property
    def Waa(self) -> Parameter:
        return self.weight_hh

    def _zeros(self, x: Tensor) -> Tensor:
        return Tensor(np.zeros(x.shape[:-1] + (self.hidden_size,), dtype=x.dtype))

    def _check(self, x: Tensor, *states) -> None:
        name = f"{type(self).__name__}({self.input_size}, {self.hidden_size})"
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (N, {self.input_size}) or ({self.input_size},), got {x.shape}")
        for s in states:
            if s.shape != x.shape[:-1] + (self.hidden_size,):
                raise ValueError(f"{name}: expected a state of shape {x.shape[:-1] + (self.hidden_size,)} "
                                 f"for input {x.shape}, got {s.shape}")

    def _step(self, x: Tensor, state):
        """The layer's op over a sequence of length 1: x (N, D) -> x<1> of shape (1, N, D)."""
        weights = [self.weight_ih, self.weight_hh] + ([self.bias_ih, self.bias_hh] if self.bias else [])
        one = x.ndim == 1
        if one:
            x = x.unsqueeze(0)
            state = tuple(s.unsqueeze(0) for s in state) if isinstance(state, tuple) else state.unsqueeze(0)
        _, final = _run(self.mode, x.unsqueeze(0), state, weights, self.nonlinearity)
        if one:
            final = tuple(s[0] for s in final) if isinstance(final, tuple) else final[0]
        return final

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_Cell):
    """a<t> = tanh(Wax x<t> + Waa a<t-1> + ba) (the course's rnn_cell_forward).
    forward(x (N, D), a_prev (N, H) = zeros) -> a_next (N, H)."""

    mode = "RNN"

    def forward(self, x: Tensor, a_prev: Tensor | None = None) -> Tensor:
        a_prev = self._zeros(x) if a_prev is None else a_prev
        self._check(x, a_prev)
        return self._step(x, a_prev)


class LSTMCell(_Cell):
    """The course's lstm_cell_forward (gates i, f, g, o as PyTorch):
    forward(x (N, D), (a_prev, c_prev) = zeros) -> (a_next, c_next), each (N, H)."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None):
        super().__init__(input_size, hidden_size, bias, dtype=dtype)

    def forward(self, x: Tensor, state=None):
        a_prev, c_prev = (self._zeros(x), self._zeros(x)) if state is None else state
        self._check(x, a_prev, c_prev)
        return self._step(x, (a_prev, c_prev))


class GRUCell(_Cell):
    """One GRU step (gates r, z, n as PyTorch): forward(x (N, D), a_prev (N, H) = zeros) -> a_next."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None):
        super().__init__(input_size, hidden_size, bias, dtype=dtype)

    def forward(self, x: Tensor, a_prev: Tensor | None = None) -> Tensor:
        a_prev = self._zeros(x) if a_prev is None else a_prev
        self._check(x, a_prev)
        return self._step(x, a_prev)
