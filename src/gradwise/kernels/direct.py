"""The direct convolution, compiled with numba: Z = W * X + b summed window by window on
batch-last arrays, without im2col's columns, for layers with few filters (DIRECT_MAX_FILTERS
in kernels/__init__.py), and its weight gradient. Shapes and argument meanings are those of
reference.conv_direct and reference.conv_direct_weight_grad; they run on the calling thread,
as compiled.py's kernels do, and are compiled once per dtype and cached on disk. Their sums
equal the reference's to rounding: each w x + z is one FMA here.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_jit = {"cache": True, "nogil": True}


@njit(inline="always", **_jit)
def _axpy2(a0, a1, x, y0, y1):
    # y0 += a0 x and y1 += a1 x in one pass over x
    for k in range(x.size):
        xk = x[k]
        y0[k] += a0 * xk
        y1[k] += a1 * xk


# A filter row's taps at once, for a pair of filters: y += a[0] x[0] + a[1] x[1] + ... and
# z the same with c, where x[j] is the run of pixels of tap j (tuples: their length is known
# when numba compiles, so the loop over the taps unrolls). Each number of y and z is loaded
# and stored once for all the taps, and their products are added in the order one _axpy2
# call per tap adds them, so the sums are the same.
@njit(inline="always", **_jit)
def _taps_pair(a, c, x, y, z):
    for k in range(y.size):
        t, u = y[k], z[k]
        for j in range(len(x)):
            t += a[j] * x[j][k]
            u += c[j] * x[j][k]
        y[k], z[k] = t, u


@njit(fastmath={"contract"}, **_jit)
def _conv_direct(Xp, W, b, sh, sw, dh, dw, Z):
    # Z[f, i] (W_out m numbers) += W[f, c, p, q] * the pixels (p, q) of row i's windows: with
    # stride 1 those are one contiguous run of Xp's row, so the inner loop is W_out m long.
    # Filters go in pairs, so each pixel read feeds two products, and a filter row's taps go
    # five or three at a time, so each number of Z is read and written once for them, not
    # once per tap: the loop was bound by those loads and stores (LeNet-5's first layer at
    # batch 100, 0.60-0.63 -> 0.33-0.39 ms; 6 -> 6 channels 3 x 3, 0.41-0.44 -> 0.27-0.29 ms).
    C, _, Wp, m = Xp.shape
    F, Ho, Wo, _ = Z.shape
    fh, fw = W.shape[2], W.shape[3]
    X3, Z3 = Xp.reshape(C, Xp.shape[1], Wp * m), Z.reshape(F, Ho, Wo * m)
    runs, L = (1, Wo * m) if sw == 1 else (Wo, m)
    spare = np.empty(L, Z.dtype)   # an odd filter's missing partner writes here, unread
    st = dw * m                    # from one tap's pixels to the next's
    for f in range(0, F, 2):
        g = f + 1 if f + 1 < F else f      # the pair's second filter; f itself when F is odd
        for i in range(Ho):
            z0, z1 = Z3[f, i], Z3[g, i]
            for k in range(Wo * m):
                z0[k] = b[f]
                z1[k] = b[g]
            for c in range(C):
                for p in range(fh):
                    row = X3[c, i * sh + p * dh]
                    q = 0
                    while q < fw:
                        n = 5 if fw - q >= 5 else 3 if fw - q >= 3 else 1
                        w0, w1 = W[f, c, p, q:q + n], W[g, c, p, q:q + n]
                        for r in range(runs):
                            base, y0 = (r * sw + q * dw) * m, z0[r * L:][:L]
                            y1 = z1[r * L:][:L] if g != f else spare
                            x = row[base:][:L]
                            if n == 5:
                                xs = (x, row[base + st:][:L], row[base + 2 * st:][:L],
                                      row[base + 3 * st:][:L], row[base + 4 * st:][:L])
                                _taps_pair((w0[0], w0[1], w0[2], w0[3], w0[4]),
                                           (w1[0], w1[1], w1[2], w1[3], w1[4]), xs, y0, y1)
                            elif n == 3:
                                xs3 = (x, row[base + st:][:L], row[base + 2 * st:][:L])
                                _taps_pair((w0[0], w0[1], w0[2]), (w1[0], w1[1], w1[2]), xs3, y0, y1)
                            else:
                                _axpy2(w0[0], w1[0], x, y0, y1)
                        q += n


# dW[f, c, p, q + j] += the dot product of d with the pixels of tap q + j, for 5 taps (`step`
# apart in `row`) or 1: d read once for them.
@njit(inline="always", fastmath=True, **_jit)
def _dots5(d, row, base, step, dW, f, c, p, q):
    n = d.size
    x0, x1, x2 = row[base:][:n], row[base + step:][:n], row[base + 2 * step:][:n]
    x3, x4 = row[base + 3 * step:][:n], row[base + 4 * step:][:n]
    s0 = s1 = s2 = s3 = s4 = d.dtype.type(0)
    for k in range(n):
        dk = d[k]
        s0 += dk * x0[k]
        s1 += dk * x1[k]
        s2 += dk * x2[k]
        s3 += dk * x3[k]
        s4 += dk * x4[k]
    dW[f, c, p, q] += s0
    dW[f, c, p, q + 1] += s1
    dW[f, c, p, q + 2] += s2
    dW[f, c, p, q + 3] += s3
    dW[f, c, p, q + 4] += s4


@njit(inline="always", fastmath=True, **_jit)
def _dots1(d, row, base, dW, f, c, p, q):
    x = row[base:][:d.size]
    s = d.dtype.type(0)
    for k in range(d.size):
        s += d[k] * x[k]
    dW[f, c, p, q] += s


@njit(fastmath=True, **_jit)
def _conv_direct_weight_grad(Xp, dZ, sh, sw, dh, dw, dW):
    # dW[f, c, p, q] = the sum over rows i of dZ[f, i] . (the pixels (p, q) of row i's windows):
    # dot products of the runs _conv_direct adds, a filter row's taps five at a time (LeNet-5's
    # first layer at batch 100: 0.59-0.68 -> 0.37 ms)
    C, _, Wp, m = Xp.shape
    F, Ho, Wo, _ = dZ.shape
    fh, fw = dW.shape[2], dW.shape[3]
    X3, D3 = Xp.reshape(C, Xp.shape[1], Wp * m), dZ.reshape(F, Ho, Wo * m)
    runs, L = (1, Wo * m) if sw == 1 else (Wo, m)
    dW[...] = 0
    for f in range(F):
        for i in range(Ho):
            for c in range(C):
                for p in range(fh):
                    row = X3[c, i * sh + p * dh]
                    q = 0
                    while q < fw:   # taps five at a time: dZ read once for them
                        n = 5 if fw - q >= 5 else 1
                        for r in range(runs):
                            base, d = (r * sw + q * dw) * m, D3[f, i, r * L:][:L]
                            if n == 5:
                                _dots5(d, row, base, dw * m, dW, f, c, p, q)
                            else:
                                _dots1(d, row, base, dW, f, c, p, q)
                        q += n


# ---- the interface of reference.py ------------------------------------------------------
def conv_direct(Xp, W, b, s, d, Z):
    _conv_direct(Xp, W, np.zeros(W.shape[0], Z.dtype) if b is None else b, s[0], s[1], d[0], d[1], Z)
    return Z


def conv_direct_weight_grad(Xp, dZ, s, d, dW):
    _conv_direct_weight_grad(Xp, dZ, s[0], s[1], d[0], d[1], dW)
    return dW
