"""Pooling, ReLU and its backward, axpy, Adam's update and col2im compiled with numba (the
direct convolution is in direct.py, re-exported here): the loops of reference.py fused into
one pass each, on batch-last arrays (see layout.py). NumPy needs a pass per window pixel for
these, with masks and temporaries between the passes; a fused loop reads the input once.

They run on the calling thread. Threads of their own (numba's prange) would compete with
BLAS's: between kernels their workers keep spinning, as BLAS's do after each GEMM, and the
two pools take the cores from each other (benchmarks/README.md has the measurement).

Each computes the same numbers as its NumPy reference in the same order (tests compare them
bit for bit; direct.py's convolution to rounding, as it fuses each w x + z into one FMA): the
windows are walked pixel (p, q) by pixel, and the innermost loop runs over the batch, m
contiguous numbers (pooling at batch 1 skips that loop: entering it for a single number cost
more than the work). Compiled once per dtype and cached on disk (cache=True), so a second
run pays no compile time. Shapes and argument meanings are reference.py's.
(im2col stays in NumPy: on batch-last arrays it is one copy of a strided view, which NumPy
already does at memory speed. col2im is NumPy's adds in the same order, a channel at a time
so the part of dX they add into stays in cache: LeNet-5's second layer 0.53 -> 0.18 ms;
where the columns are tens of MB, reading them takes the time either way.)
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .direct import conv_direct, conv_direct_weight_grad  # noqa: F401 (this module's interface)
from .reference import _cropped, col2im_buffers

_jit = {"cache": True, "nogil": True}


@njit(**_jit)
def _max_pool(X, fh, fw, sh, sw, pt, pl, Ho, Wo, lowest, arg):
    C, H, W, m = X.shape
    Z = np.empty((C, Ho, Wo, m), X.dtype)
    for c in range(C):
        for i in range(Ho):
            for j in range(Wo):
                if m == 1:   # a batch of 1: the window's max in registers, no loop to enter
                    z1, a1 = lowest, 0   # per pixel (SimpleConvNet's pooling 148 -> 40 us)
                    for k in range(fh * fw):
                        y, x = i * sh - pt + k // fw, j * sw - pl + k % fw
                        if 0 <= y < H and 0 <= x < W:
                            v = X[c, y, x, 0]
                            take = (v > z1) | (v != v) | (k == 0)  # noqa: PLR0124 - NaN
                            z1 = v if take else z1
                            a1 = k if take else a1
                    Z[c, i, j, 0], arg[c, i, j, 0] = z1, a1
                    continue
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
                            # selects, not a branch: the loop vectorizes, and a branch on
                            # random data is mispredicted (2.4x slower at m = 4, 1.2x at 100)
                            v = X[c, y, x, n]
                            take = (v > z[n]) | (v != v)  # noqa: PLR0124 - v != v: NaN
                            z[n] = v if take else z[n]
                            a[n] = k if take else a[n]
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
                    if m == 1:   # a batch of 1 without the loop: twice as fast (116 -> 60 us)
                        if arg[c, i, j, 0] == k:
                            dX[c, y, x, 0] += dZ[c, i, j, 0]
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
                if m == 1:   # a batch of 1 without the loop over it: 2.4 times as fast
                    z1 = Z[c, i, j, 0]
                    for k in range(fh * fw):
                        y, x = i * sh - pt + k // fw, j * sw - pl + k % fw
                        if 0 <= y < H and 0 <= x < W:
                            z1 += X[c, y, x, 0]
                    Z[c, i, j, 0] = z1 * scale
                    continue
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
                    if x < 0 or x >= W:
                        continue
                    if m == 1:   # a batch of 1 without the loop, as in the forward
                        dX[c, y, x, 0] += dZ[c, i, j, 0] * scale
                        continue
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


@njit(**_jit, error_model="numpy")   # x / 0 is inf, as NumPy's: no branch to raise, so it vectorizes
def _adam(w, g, v, s, beta1, c1, beta2, c2, step, s_scale, eps):
    for t in range(w.size):
        v_t = v[t] * beta1 + c1 * g[t]
        s_t = s[t] * beta2 + c2 * (g[t] * g[t])
        v[t], s[t] = v_t, s_t
        w[t] -= step * v_t / (np.sqrt(s_t * s_scale) + eps)


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


# The elementwise kernels take 1-D contiguous arrays: the flat memory of arrays laid out alike.
def axpy(a, x, y):
    _axpy(a, x, y)


def adam(w, g, v, s, beta1, beta2, step, s_scale, eps):
    d = w.dtype.type   # each constant rounded to w's dtype, as NumPy rounds a Python float
    _adam(w, g, v, s, d(beta1), d(1.0 - beta1), d(beta2), d(1.0 - beta2), d(step), d(s_scale), d(eps))


def relu(z, out):
    _relu(z, out, z.dtype.type(0))


def relu_backward(dA, A, dZ):
    _relu_backward(dA, A, dZ, dZ.dtype.type(0))
