"""The recurrent ops (RNN, GRU, LSTM) as ONNX nodes, unrolled over the traced sequence length.

Each gradwise op returns every step's state (the LSTM's a<t> and c<t> side by side), which
ONNX's own RNN/GRU/LSTM nodes do not give (they return the last c only, and order the gates
differently), so the converter writes the course's cell equations once per time step with
MatMul, Add, Sigmoid, Tanh and Mul. The batch size stays free; the sequence length is the
example's.
"""
from __future__ import annotations

import numpy as np


class _Steps:
    """What every step shares: the graph, the hidden size, and x<t> W_ih^T + b for each t."""

    def __init__(self, g, xs, ts, bias_in_input: bool):
        self.g, self.T, self.H = g, ts[0].shape[0], ts[1].shape[-1]
        self.W_ih, self.W_hh = xs[-4:-2] if len(xs) in (6, 7) else xs[-2:]
        self.b_ih, self.b_hh = xs[-2:] if len(xs) in (6, 7) else (None, None)
        XI = self.matmul(xs[0], self.W_ih, "x_W_ih")                    # (T, N, kH)
        if self.b_ih is not None and bias_in_input:
            XI = self.add(XI, self.add(self.b_ih, self.b_hh, "b"), "x_W_ih_b")
        elif self.b_ih is not None:
            XI = self.add(XI, self.b_ih, "x_W_ih_b")
        self.XI = XI

    def node(self, op, inputs, stem, **attrs):
        out = self.g.fresh(stem)
        self.g.node(op, inputs, [out], **attrs)
        return out

    def matmul(self, A, W, stem):
        """A W^T."""
        return self.node("MatMul", [A, self.node("Transpose", [W], "W_T", perm=[1, 0])], stem)

    def add(self, a, b, stem):
        return self.node("Add", [a, b], stem)

    def mul(self, a, b, stem):
        return self.node("Mul", [a, b], stem)

    def x(self, t: int):
        """x<t> W_ih^T (+ b) of step t: (N, kH)."""
        return self.node("Gather", [self.XI, self.g.constant(np.int64(t), "t")], "x_t", axis=0)

    def split(self, z, n: int, stem):
        """z (N, nH) into n pieces of H columns."""
        outs = [self.g.fresh(f"{stem}{k}") for k in range(n)]
        self.g.node("Split", [z, self.g.constant([self.H] * n, "sizes", np.int64)], outs, axis=1)
        return outs

    def stack(self, states, y):
        """(T, N, *) from the steps' (N, *)."""
        axis0 = self.g.constant([0], "axes", np.int64)
        parts = [self.node("Unsqueeze", [s, axis0], "step") for s in states]
        self.g.node("Concat", parts, [y], axis=0)


def rnn(g, fn, xs, y, ts):
    """a<t> = tanh(x<t> W_ih^T + a<t-1> W_hh^T + b) (or relu)."""
    s = _Steps(g, xs, ts, bias_in_input=True)
    a, states = xs[1], []
    for t in range(s.T):
        z = s.add(s.x(t), s.matmul(a, s.W_hh, "a_W_hh"), "z")
        a = s.node("Relu" if fn.relu else "Tanh", [z], "a")
        states.append(a)
    s.stack(states, y)


def lstm(g, fn, xs, y, ts):
    """Gates i, f, g, o; c<t> = f c<t-1> + i g, a<t> = o tanh(c<t>); output [a<t>, c<t>]."""
    s = _Steps(g, xs, ts, bias_in_input=True)
    a, c, states = xs[1], xs[2], []
    for t in range(s.T):
        z = s.add(s.x(t), s.matmul(a, s.W_hh, "a_W_hh"), "z")
        zi, zf, zg, zo = s.split(z, 4, "z")
        i, f, o = (s.node("Sigmoid", [v], name) for v, name in ((zi, "i"), (zf, "f"), (zo, "o")))
        cand = s.node("Tanh", [zg], "c_cand")
        c = s.add(s.mul(f, c, "f_c"), s.mul(i, cand, "i_g"), "c")
        a = s.mul(o, s.node("Tanh", [c], "tanh_c"), "a")
        states.append(s.node("Concat", [a, c], "a_c", axis=1))
    s.stack(states, y)


def gru(g, fn, xs, y, ts):
    """Gates r, z; n = tanh(x W_in^T + b_in + r (a W_hn^T + b_hn)); a<t> = (1 - z) n + z a<t-1>."""
    s = _Steps(g, xs, ts, bias_in_input=False)
    one = g.constant(np.ones((), dtype=ts[0].dtype), "one")
    a, states = xs[1], []
    for t in range(s.T):
        hh = s.matmul(a, s.W_hh, "a_W_hh")
        if s.b_hh is not None:
            hh = s.add(hh, s.b_hh, "a_W_hh_b")
        xr, xz, xn = s.split(s.x(t), 3, "x")
        hr, hz, hn = s.split(hh, 3, "h")
        r = s.node("Sigmoid", [s.add(xr, hr, "zr")], "r")
        z = s.node("Sigmoid", [s.add(xz, hz, "zz")], "z")
        n = s.node("Tanh", [s.add(xn, s.mul(r, hn, "r_hn"), "zn")], "n")
        a = s.add(s.mul(s.node("Sub", [one, z], "one_minus_z"), n, "z_n"), s.mul(z, a, "z_a"), "a")
        states.append(a)
    s.stack(states, y)
