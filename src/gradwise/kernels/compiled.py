"""Pooling, ReLU and its backward, axpy and the direct convolution compiled with numba: the
loops of reference.py fused into one pass each, on batch-last arrays (see layout.py). NumPy
needs a pass per window pixel for these, with masks and temporaries between the passes; a
fused loop reads the input once.

They run on the calling thread. Threads of their own (numba's prange) would compete with
BLAS's: between kernels their workers keep spinning, as BLAS's do after each GEMM, and the
two pools take the cores from each other (benchmarks/README.md has the measurement).

Each computes the same numbers as its NumPy reference in the same order (tests compare them
bit for bit; the convolution to rounding, as it fuses each w x + z into one FMA): the
windows are walked pixel (p, q) by pixel, and the innermost loop runs over the batch, m
contiguous numbers. Compiled once per dtype and cached on disk (cache=True), so a second
run pays no compile time. Shapes and argument meanings are reference.py's.
(im2col stays in NumPy: on batch-last arrays it is one copy of a strided view, which NumPy
already does at memory speed. col2im is NumPy's adds in the same order, a channel at a time
so the part of dX they add into stays in cache: LeNet-5's second layer 0.53 -> 0.18 ms;
where the columns are tens of MB, reading them takes the time either way.)
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .reference import _cropped, col2im_buffers

_jit = {"cache": True, "nogil": True}


@njit(**_jit)
def _max_pool(X, fh, fw, sh, sw, pt, pl, Ho, Wo, lowest, arg):
    C, H, W, m = X.shape
    Z = np.empty((C, Ho, Wo, m), X.dtype)
    for c in range(C):
        for i in range(Ho):
            for j in range(Wo):
                z, a = Z[c, i, j], arg[c, i, j]
                for k in range(fh * fw):
                    y, x = i * sh - pt + k // fw, j * sw - pl + k % fw
                    inside = 0 <= y < H and 0 <= x < W
                    if k == 0:
                        for n in range(m):
                            z[n] = X[c, y, x, n] if inside else lowest
                            a[n] = 0
                    elif inside:
                        for n in range(m):
                            v = X[c, y, x, n]
                            if v > z[n] or v != v:  # noqa: PLR0124 - v != v: NaN
                                z[n] = v
                                a[n] = k
    return Z


@njit(**_jit)
def _max_pool_backward(dZ, arg, H, W, fh, fw, sh, sw, pt, pl):
    C, Ho, Wo, m = dZ.shape
    dX = np.zeros((C, H, W, m), dZ.dtype)
    for c in range(C):
        for k in range(fh * fw):
            for i in range(Ho):
                y = i * sh - pt + k // fw
                if y < 0 or y >= H:
                    continue
                for j in range(Wo):
                    x = j * sw - pl + k % fw
                    if x < 0 or x >= W:
                        continue
                    g, a, d = dZ[c, i, j], arg[c, i, j], dX[c, y, x]
                    for n in range(m):
                        if a[n] == k:
                            d[n] += g[n]
    return dX


@njit(**_jit)
def _avg_pool(X, fh, fw, sh, sw, pt, pl, Ho, Wo, scale):
    C, H, W, m = X.shape
    Z = np.zeros((C, Ho, Wo, m), X.dtype)
    for c in range(C):
        for i in range(Ho):
            for j in range(Wo):
                z = Z[c, i, j]
                for k in range(fh * fw):
                    y, x = i * sh - pt + k // fw, j * sw - pl + k % fw
                    if 0 <= y < H and 0 <= x < W:
                        for n in range(m):
                            z[n] += X[c, y, x, n]
                for n in range(m):
                    z[n] *= scale
    return Z


@njit(**_jit)
def _avg_pool_backward(dZ, H, W, fh, fw, sh, sw, pt, pl, scale):
    C, Ho, Wo, m = dZ.shape
    dX = np.zeros((C, H, W, m), dZ.dtype)
    for c in range(C):
        for k in range(fh * fw):
            for i in range(Ho):
                y = i * sh - pt + k // fw
                if y < 0 or y >= H:
                    continue
                for j in range(Wo):
                    x = j * sw - pl + k % fw
                    if 0 <= x < W:
                        g, d = dZ[c, i, j], dX[c, y, x]
                        for n in range(m):
                            d[n] += g[n] * scale
    return dX


@njit(**_jit)
def _col2im(dcol6, dXp, sh, sw, dh, dw):
    # reference.col2im's loop: window pixel (p, q) by pixel, its column added back where it
    # came from, so each number of dXp is summed in the same order; channel by channel, one
    # row of windows at a time, where NumPy adds all the channels at once
    C, fh, fw, Ho, Wo, m = dcol6.shape
    for p in range(fh):
        for q in range(fw):
            for c in range(C):
                for i in range(Ho):
                    row, src = dXp[c, i * sh + p * dh], dcol6[c, p, q, i]
                    if sw == 1:   # the row's windows: one run of W_out m numbers
                        dst, x = row[q * dw:q * dw + Wo].reshape(-1), src.reshape(-1)
                        for k in range(Wo * m):
                            dst[k] += x[k]
                    else:
                        for j in range(Wo):
                            dst, x = row[j * sw + q * dw], src[j]
                            for n in range(m):
                                dst[n] += x[n]


@njit(inline="always", **_jit)
def _axpy2(a0, a1, x, y0, y1, alone):
    # y0 += a0 x and y1 += a1 x in one pass over x (only y0 when y1 is y0 itself)
    if alone:
        for k in range(x.size):
            y0[k] += a0 * x[k]
    else:
        for k in range(x.size):
            xk = x[k]
            y0[k] += a0 * xk
            y1[k] += a1 * xk


# Five or three taps q.. of a filter row at once, their pixels `step` apart in `row`: each
# number of y (and z) is loaded and stored once for all of them, and their products are
# added in the order one _axpy2 call per tap adds them, so the sums are the same.
@njit(inline="always", **_jit)
def _taps5(a, row, base, step, y):
    # y += a[0] x_q + ... + a[4] x_q+4
    n = y.size
    x0, x1, x2 = row[base:][:n], row[base + step:][:n], row[base + 2 * step:][:n]
    x3, x4 = row[base + 3 * step:][:n], row[base + 4 * step:][:n]
    a0, a1, a2, a3, a4 = a[0], a[1], a[2], a[3], a[4]
    for k in range(n):
        t = y[k]
        t += a0 * x0[k]
        t += a1 * x1[k]
        t += a2 * x2[k]
        t += a3 * x3[k]
        t += a4 * x4[k]
        y[k] = t


@njit(inline="always", **_jit)
def _taps5_pair(a, c, row, base, step, y, z):
    # y += a . x and z += c . x in one pass over the pixels (a filter pair)
    n = y.size
    x0, x1, x2 = row[base:][:n], row[base + step:][:n], row[base + 2 * step:][:n]
    x3, x4 = row[base + 3 * step:][:n], row[base + 4 * step:][:n]
    a0, a1, a2, a3, a4 = a[0], a[1], a[2], a[3], a[4]
    c0, c1, c2, c3, c4 = c[0], c[1], c[2], c[3], c[4]
    for k in range(n):
        u0, u1, u2, u3, u4 = x0[k], x1[k], x2[k], x3[k], x4[k]
        t = y[k]
        t += a0 * u0
        t += a1 * u1
        t += a2 * u2
        t += a3 * u3
        t += a4 * u4
        y[k] = t
        t = z[k]
        t += c0 * u0
        t += c1 * u1
        t += c2 * u2
        t += c3 * u3
        t += c4 * u4
        z[k] = t


@njit(inline="always", **_jit)
def _taps3(a, row, base, step, y):
    n = y.size
    x0, x1, x2 = row[base:][:n], row[base + step:][:n], row[base + 2 * step:][:n]
    a0, a1, a2 = a[0], a[1], a[2]
    for k in range(n):
        t = y[k]
        t += a0 * x0[k]
        t += a1 * x1[k]
        t += a2 * x2[k]
        y[k] = t


@njit(inline="always", **_jit)
def _taps3_pair(a, c, row, base, step, y, z):
    n = y.size
    x0, x1, x2 = row[base:][:n], row[base + step:][:n], row[base + 2 * step:][:n]
    a0, a1, a2, c0, c1, c2 = a[0], a[1], a[2], c[0], c[1], c[2]
    for k in range(n):
        u0, u1, u2 = x0[k], x1[k], x2[k]
        t = y[k]
        t += a0 * u0
        t += a1 * u1
        t += a2 * u2
        y[k] = t
        t = z[k]
        t += c0 * u0
        t += c1 * u1
        t += c2 * u2
        z[k] = t


@njit(fastmath={"contract"}, **_jit)
def _conv_direct(Xp, W, b, sh, sw, dh, dw, Z):
    # Z[f, i] (W_out m numbers) += W[f, c, p, q] * the pixels (p, q) of row i's windows: with
    # stride 1 those are one contiguous run of Xp's row, so the inner loop is W_out m long.
    # Filters go in pairs, so each pixel read feeds two products, and a filter row's taps go
    # five or three at a time, so each number of Z is read and written once for them, not
    # once per tap: the loop was bound by those loads and stores (LeNet-5's first layer at
    # batch 100, 0.60-0.63 -> 0.32-0.35 ms; 6 -> 6 channels 3 x 3, 0.41-0.44 -> 0.23 ms).
    C, _, Wp, m = Xp.shape
    F, Ho, Wo, _ = Z.shape
    fh, fw = W.shape[2], W.shape[3]
    X3, Z3 = Xp.reshape(C, Xp.shape[1], Wp * m), Z.reshape(F, Ho, Wo * m)
    runs, L = (1, Wo * m) if sw == 1 else (Wo, m)
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
                            base, y0, y1 = (r * sw + q * dw) * m, z0[r * L:][:L], z1[r * L:][:L]
                            if n == 1:
                                _axpy2(w0[0], w1[0], row[base:][:L], y0, y1, g == f)
                            elif n == 5 and g != f:
                                _taps5_pair(w0, w1, row, base, dw * m, y0, y1)
                            elif n == 5:
                                _taps5(w0, row, base, dw * m, y0)
                            elif g != f:
                                _taps3_pair(w0, w1, row, base, dw * m, y0, y1)
                            else:
                                _taps3(w0, row, base, dw * m, y0)
                        q += n


# out[j] += the dot product of d with the pixels of tap j, for 5, 3 or 1 taps (`step` apart
# in `row`): d read once for them.
@njit(inline="always", fastmath=True, **_jit)
def _dots5(d, row, base, step, out):
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
    out[0] += s0
    out[1] += s1
    out[2] += s2
    out[3] += s3
    out[4] += s4


@njit(inline="always", fastmath=True, **_jit)
def _dots3(d, row, base, step, out):
    n = d.size
    x0, x1, x2 = row[base:][:n], row[base + step:][:n], row[base + 2 * step:][:n]
    s0 = s1 = s2 = d.dtype.type(0)
    for k in range(n):
        dk = d[k]
        s0 += dk * x0[k]
        s1 += dk * x1[k]
        s2 += dk * x2[k]
    out[0] += s0
    out[1] += s1
    out[2] += s2


@njit(inline="always", fastmath=True, **_jit)
def _dots1(d, row, base, out):
    x = row[base:][:d.size]
    s = d.dtype.type(0)
    for k in range(d.size):
        s += d[k] * x[k]
    out[0] += s


@njit(fastmath=True, **_jit)
def _conv_direct_weight_grad(Xp, dZ, sh, sw, dh, dw, dW):
    # dW[f, c, p, q] = the sum over rows i of dZ[f, i] . (the pixels (p, q) of row i's windows):
    # dot products of the runs _conv_direct adds, a filter row's taps five or three at a time
    # (LeNet-5's first layer at batch 100: 0.59-0.68 -> 0.40 ms)
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
                    while q < fw:   # taps five or three at a time: dZ read once for them
                        n = 5 if fw - q >= 5 else 3 if fw - q >= 3 else 1
                        for r in range(runs):
                            base, d = (r * sw + q * dw) * m, D3[f, i, r * L:][:L]
                            out = dW[f, c, p, q:q + n]
                            if n == 5:
                                _dots5(d, row, base, dw * m, out)
                            elif n == 3:
                                _dots3(d, row, base, dw * m, out)
                            else:
                                _dots1(d, row, base, out)
                        q += n


@njit(**_jit)
def _relu(z, out, zero):
    for t in range(z.size):
        out[t] = zero if z[t] <= zero else z[t]   # NaN is not <= 0: it passes, as in np.maximum


@njit(**_jit)
def _relu_backward(dA, A, dZ, zero):
    for t in range(dA.size):
        dZ[t] = dA[t] if A[t] > zero else zero


@njit(**_jit)
def _axpy(a, x, y):
    for t in range(y.size):
        y[t] += a * x[t]


# ---- the interface of reference.py ------------------------------------------------------
def max_pool(X, f, s, pad, out_hw, arg_dtype):
    lowest = -np.inf if X.dtype.kind == "f" else np.iinfo(X.dtype).min
    arg = np.empty((X.shape[0], *out_hw, X.shape[3]), arg_dtype)
    Z = _max_pool(X, f[0], f[1], s[0], s[1], pad[0][0], pad[1][0], *out_hw, X.dtype.type(lowest), arg)
    return Z, arg


def max_pool_backward(dZ, arg, shape, f, s, pad):
    return _max_pool_backward(dZ, arg, shape[1], shape[2], f[0], f[1], s[0], s[1], pad[0][0], pad[1][0])


def avg_pool(X, f, s, pad, out_hw):
    scale = X.dtype.type(1.0 / (f[0] * f[1]))
    return _avg_pool(X, f[0], f[1], s[0], s[1], pad[0][0], pad[1][0], *out_hw, scale)


def avg_pool_backward(dZ, shape, f, s, pad):
    scale = dZ.dtype.type(1.0 / (f[0] * f[1]))
    return _avg_pool_backward(dZ, shape[1], shape[2], f[0], f[1], s[0], s[1], pad[0][0], pad[1][0], scale)


def col2im(dcol, shape, f, s, pad, d, out_hw):
    dXp, dcol6 = col2im_buffers(dcol, shape, f, pad, out_hw)
    _col2im(dcol6, dXp, s[0], s[1], d[0], d[1])
    return _cropped(dXp, pad, shape)


def conv_direct(Xp, W, b, s, d, Z):
    _conv_direct(Xp, W, np.zeros(W.shape[0], Z.dtype) if b is None else b, s[0], s[1], d[0], d[1], Z)
    return Z


def conv_direct_weight_grad(Xp, dZ, s, d, dW):
    _conv_direct_weight_grad(Xp, dZ, s[0], s[1], d[0], d[1], dW)
    return dW


# The elementwise kernels take 1-D contiguous arrays: the flat memory of arrays laid out alike.
def axpy(a, x, y):
    _axpy(a, x, y)


def relu(z, out):
    _relu(z, out, z.dtype.type(0))


def relu_backward(dA, A, dZ):
    _relu_backward(dA, A, dZ, dZ.dtype.type(0))
