"""Recurrent layers over a whole sequence, fused: forward through time, backward through time.

Each op takes the whole sequence X of shape (T, N, D) (time first: X[t] is x<t> for the batch),
the initial state, and the weights in PyTorch's layout, and runs the course's rnn_forward /
lstm_forward loop; backward is the course's rnn_backward / lstm_backward: one pass from t = T-1
down to 0 that carries da<t-1> (and dc<t-1>) back, then a few large products for the weights.
One graph node per layer and sequence instead of a dozen per time step: the per-step work is
a single (N, H) x (H, kH) product, and x<t> W_ih^T is computed for all t in one product.

Weights, as in torch.nn.RNN / LSTM / GRU (k = 1, 4, 3 gates; H hidden units, D inputs):
    W_ih (kH, D)   W_hh (kH, H)   b_ih (kH,)   b_hh (kH,)    (the biases are optional)
The course's Wax is W_ih, Waa is W_hh, and its ba is b_ih + b_hh.

An op returns one array. For the RNN and the GRU that is a<t> for every t, (T, N, H), whose
last step is the final state. The LSTM's final memory cell c<T> is not part of its output, so
its op returns a<t> and c<t> side by side, (T, N, 2H), and the layer slices them apart.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import matmul
from .activation import sigmoid_array


def _input_products(X, W_ih, b):
    """x<t> W_ih^T + b for every t at once: (T, N, D) -> (T, N, kH)."""
    Z = matmul(X, W_ih.T)
    if b is not None:
        Z += b
    return Z


def _weight_grads(dZ, X, A_prev, needs, n_bias, dZ_hh=None):
    """dX, dW_ih, dW_hh and the bias gradients from the preactivation gradients of all steps:
    dX = dZ W_ih, dW_ih = sum_t dZ<t>^T x<t>, dW_hh = sum_t dZ<t>^T a<t-1>, db = sum_t dZ<t>.
    dZ_hh: the gradient of the recurrent products where it differs from dZ (the GRU's)."""
    kH = dZ.shape[-1]
    dZ_hh = dZ if dZ_hh is None else dZ_hh
    flat, flat_hh = dZ.reshape(-1, kH), dZ_hh.reshape(-1, kH)
    dW_ih = matmul(flat.T, X.reshape(-1, X.shape[-1])) if needs[0] else None
    dW_hh = matmul(flat_hh.T, A_prev.reshape(-1, A_prev.shape[-1])) if needs[1] else None
    biases = (flat.sum(axis=0), flat_hh.sum(axis=0))[:n_bias]
    if n_bias and dZ_hh is dZ:
        biases = (biases[0], biases[0].copy())  # one array per input: fresh_grads
    return dW_ih, dW_hh, biases


class RNN(Function):
    """The basic RNN cell, repeated over t (the course's rnn_cell_forward):

        a<t> = tanh(Wax x<t> + Waa a<t-1> + ba)       (relu instead of tanh if asked)

    forward(X (T, N, D), a0 (N, H), W_ih (H, D), W_hh (H, H)[, b_ih (H,), b_hh (H,)])
        -> A (T, N, H), A[t] = a<t>
    backward: dz<t> = (dA[t] + da<t>) * tanh'(z<t>), where tanh'(z) = 1 - a<t>^2, and
        da<t-1> = dz<t> Waa, summed over the steps into dWax, dWaa, dba.
    """

    fresh_grads = True

    def __init__(self, nonlinearity: str = "tanh"):
        self.relu = nonlinearity == "relu"

    def forward(self, X, a0, W_ih, W_hh, *biases):
        b = biases[0] + biases[1] if biases else None
        Z = _input_products(X, W_ih, b)
        A = np.empty(Z.shape, dtype=Z.dtype)
        a = a0
        for t in range(len(X)):
            z = Z[t] + a @ W_hh.T
            a = np.maximum(z, 0, out=A[t]) if self.relu else np.tanh(z, out=A[t])
        self.X, self.a0, self.A, self.W_ih, self.W_hh = X, a0, A, W_ih, W_hh
        self.n_bias = len(biases)
        return A

    def backward(self, dA):
        A, W_hh = self.A, self.W_hh
        dZ = np.empty_like(A)
        da = np.zeros_like(self.a0)
        for t in reversed(range(len(A))):
            da = dA[t] + da
            dZ[t] = da * (A[t] > 0) if self.relu else da * (1 - A[t] * A[t])
            da = dZ[t] @ W_hh
        A_prev = np.concatenate([self.a0[None], A[:-1]])
        dW_ih, dW_hh, db = _weight_grads(dZ, self.X, A_prev, self.needs_grad[2:], self.n_bias)
        dX = dZ @ self.W_ih if self.needs_grad[0] else None
        return (dX, da, dW_ih, dW_hh) + db


class LSTM(Function):
    """The LSTM cell, repeated over t (the course's lstm_cell_forward), with PyTorch's gates
    ordered i, f, g, o in the rows of W_ih and W_hh:

        Gamma_i = sigmoid(z_i)       update gate (the course's Gamma_u)
        Gamma_f = sigmoid(z_f)       forget gate
        c~<t>   = tanh(z_g)          candidate
        Gamma_o = sigmoid(z_o)       output gate
        c<t> = Gamma_f * c<t-1> + Gamma_i * c~<t>
        a<t> = Gamma_o * tanh(c<t>)
    where z = W_ih x<t> + W_hh a<t-1> + b_ih + b_hh, the course's W [a<t-1>, x<t>] + b.

    forward(X (T, N, D), a0 (N, H), c0 (N, H), W_ih (4H, D), W_hh (4H, H)[, b_ih, b_hh (4H,)])
        -> (T, N, 2H): a<t> in [..., :H], c<t> in [..., H:]
    backward (lstm_cell_backward), from da = dA[t] + da<t> and dc = dC[t] + dc<t>:
        dc += da * Gamma_o * (1 - tanh(c<t>)^2)
        dGamma_o = da * tanh(c<t>), dGamma_i = dc * c~<t>, dc~ = dc * Gamma_i,
        dGamma_f = dc * c<t-1>, each times its activation's derivative;
        da<t-1> = dz W_hh, dc<t-1> = dc * Gamma_f.
    """

    fresh_grads = True

    def forward(self, X, a0, c0, W_ih, W_hh, *biases):
        b = biases[0] + biases[1] if biases else None
        Z = _input_products(X, W_ih, b)
        T, H = len(X), a0.shape[-1]
        G = np.empty(Z.shape, dtype=Z.dtype)             # the gates after their activations
        out = np.empty(Z.shape[:-1] + (2 * H,), dtype=Z.dtype)
        tanh_C = np.empty(out.shape[:-1] + (H,), dtype=Z.dtype)
        a, c = a0, c0
        for t in range(T):
            z = Z[t] + a @ W_hh.T
            g = G[t]
            g[:, :2 * H] = sigmoid_array(z[:, :2 * H])   # Gamma_i, Gamma_f
            np.tanh(z[:, 2 * H:3 * H], out=g[:, 2 * H:3 * H])
            g[:, 3 * H:] = sigmoid_array(z[:, 3 * H:])   # Gamma_o
            c = out[t, :, H:]
            np.multiply(g[:, H:2 * H], out[t - 1, :, H:] if t else c0, out=c)
            c += g[:, :H] * g[:, 2 * H:3 * H]
            np.tanh(c, out=tanh_C[t])
            a = np.multiply(g[:, 3 * H:], tanh_C[t], out=out[t, :, :H])
        self.X, self.a0, self.c0, self.W_ih, self.W_hh = X, a0, c0, W_ih, W_hh
        self.G, self.out, self.tanh_C, self.n_bias = G, out, tanh_C, len(biases)
        return out

    def backward(self, dY):
        G, out, tanh_C, W_hh = self.G, self.out, self.tanh_C, self.W_hh
        H = self.a0.shape[-1]
        dZ = np.empty_like(G)
        da, dc = np.zeros_like(self.a0), np.zeros_like(self.c0)
        for t in reversed(range(len(G))):
            g, tc = G[t], tanh_C[t]
            i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            c_prev = out[t - 1, :, H:] if t else self.c0
            da = dY[t, :, :H] + da
            dc = dY[t, :, H:] + dc + da * o * (1 - tc * tc)
            dz = dZ[t]
            dz[:, :H] = dc * gg * i * (1 - i)
            dz[:, H:2 * H] = dc * c_prev * f * (1 - f)
            dz[:, 2 * H:3 * H] = dc * i * (1 - gg * gg)
            dz[:, 3 * H:] = da * tc * o * (1 - o)
            da = dz @ W_hh
            dc = dc * f
        A_prev = np.concatenate([self.a0[None], out[:-1, :, :H]])
        dW_ih, dW_hh, db = _weight_grads(dZ, self.X, A_prev, self.needs_grad[3:], self.n_bias)
        dX = dZ @ self.W_ih if self.needs_grad[0] else None
        return (dX, da, dc, dW_ih, dW_hh) + db


class GRU(Function):
    """The gated recurrent unit, repeated over t, with PyTorch's gates ordered r, z, n:

        Gamma_r = sigmoid(W_ir x<t> + b_ir + W_hr a<t-1> + b_hr)     relevance (reset) gate
        Gamma_z = sigmoid(W_iz x<t> + b_iz + W_hz a<t-1> + b_hz)     PyTorch's z keeps a<t-1>
        n<t> = tanh(W_in x<t> + b_in + Gamma_r * (W_hn a<t-1> + b_hn))   the candidate c~<t>
        a<t> = (1 - Gamma_z) * n<t> + Gamma_z * a<t-1>
    The course writes c<t> = Gamma_u * c~<t> + (1 - Gamma_u) * c<t-1>: its update gate
    Gamma_u is PyTorch's 1 - Gamma_z, and its Gamma_r multiplies a<t-1> before W_hn, where
    PyTorch multiplies after (so that b_hn sits inside the product, and b_ih, b_hh differ).

    forward(X (T, N, D), a0 (N, H), W_ih (3H, D), W_hh (3H, H)[, b_ih, b_hh (3H,)]) -> (T, N, H)
    backward, from da = dA[t] + da<t>:
        dn = da (1 - Gamma_z), dGamma_z = da (a<t-1> - n), da<t-1> = da Gamma_z + dz_hh W_hh,
        with dz_hh the gradient of W_hh a<t-1> + b_hh: dz_r, dz_z and dz_n * Gamma_r.
    """

    fresh_grads = True

    def forward(self, X, a0, W_ih, W_hh, *biases):
        b_ih, b_hh = biases if biases else (None, None)
        XI = _input_products(X, W_ih, b_ih)
        T, H = len(X), a0.shape[-1]
        G = np.empty(XI.shape, dtype=XI.dtype)       # Gamma_r, Gamma_z, n
        HN = np.empty(XI.shape[:-1] + (H,), dtype=XI.dtype)   # W_hn a<t-1> + b_hn
        A = np.empty_like(HN)
        a = a0
        for t in range(T):
            hh = a @ W_hh.T
            if b_hh is not None:
                hh += b_hh
            g = G[t]
            g[:, :2 * H] = sigmoid_array(XI[t, :, :2 * H] + hh[:, :2 * H])
            HN[t] = hh[:, 2 * H:]
            np.tanh(XI[t, :, 2 * H:] + g[:, :H] * HN[t], out=g[:, 2 * H:])
            z, n = g[:, H:2 * H], g[:, 2 * H:]
            a = np.multiply(1 - z, n, out=A[t])
            a += z * (A[t - 1] if t else a0)
        self.X, self.a0, self.W_ih, self.W_hh = X, a0, W_ih, W_hh
        self.G, self.HN, self.A, self.n_bias = G, HN, A, len(biases)
        return A

    def backward(self, dA):
        G, HN, A, W_hh = self.G, self.HN, self.A, self.W_hh
        H = self.a0.shape[-1]
        dXI, dHH = np.empty_like(G), np.empty_like(G)
        da = np.zeros_like(self.a0)
        for t in reversed(range(len(G))):
            r, z, n = G[t, :, :H], G[t, :, H:2 * H], G[t, :, 2 * H:]
            a_prev = A[t - 1] if t else self.a0
            da = dA[t] + da
            dzn = da * (1 - z) * (1 - n * n)
            dXI[t, :, 2 * H:] = dzn
            dHH[t, :, 2 * H:] = dzn * r
            dXI[t, :, :H] = dHH[t, :, :H] = dzn * HN[t] * r * (1 - r)
            dXI[t, :, H:2 * H] = dHH[t, :, H:2 * H] = da * (a_prev - n) * z * (1 - z)
            da = da * z + dHH[t] @ W_hh
        A_prev = np.concatenate([self.a0[None], A[:-1]])
        dW_ih, dW_hh, db = _weight_grads(dXI, self.X, A_prev, self.needs_grad[2:], self.n_bias, dHH)
        dX = dXI @ self.W_ih if self.needs_grad[0] else None
        return (dX, da, dW_ih, dW_hh) + db
