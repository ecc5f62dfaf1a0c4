"""The kernels in plain NumPy, on batch-last arrays (see layout.py).

im2col runs here always; the others are the reference for their compiled versions
(compiled.py), which compute the same numbers in the same order: tests compare the two bit
for bit (the direct convolution to rounding: its compiled sums fuse multiply and add). Each
kernel reads like its definition.

Shapes: X (C, H, W, m); a window is f_h x f_w pixels, taken every s pixels, its pixels d
apart (dilation), on X padded by `pad` = ((top, bottom), (left, right)); the output is
H_out x W_out. col (C f_h f_w [+ 1], H_out W_out m): row (c, p, q) holds pixel (p, q) of
every window of channel c, in column (i W_out + j) m + n for window (i, j) of image n.
"""
from __future__ import annotations

import numpy as np

_as_strided = np.lib.stride_tricks.as_strided


def _padded(X, pad, value=0.0):
    (t, b), (l, r) = pad
    if not (t or b or l or r):
        return X
    C, H, W, m = X.shape
    Xp = np.full((C, H + t + b, W + l + r, m), value, X.dtype)
    Xp[:, t:t + H, l:l + W] = X
    return Xp


def _cropped(dXp, pad, shape):
    (t, _), (l, _) = pad
    return np.ascontiguousarray(dXp[:, t:t + shape[1], l:l + shape[2]])


def _offset(start, stride, n):
    """The rows (or columns) that window pixel offset `start` touches for n outputs."""
    return slice(start, start + stride * (n - 1) + 1, stride)


def _window_pixel(p, q, f, s, d, out_hw):
    """Index of pixel (p, q) of every window: an (C, H_out, W_out, m) slice of padded X."""
    return (slice(None), _offset(p * d[0], s[0], out_hw[0]), _offset(q * d[1], s[1], out_hw[1]))


def im2col(X, f, s, pad, d, out_hw, col):
    """Fill col's first C f_h f_w rows with the windows of X (one copy of a strided view)."""
    C, m = X.shape[0], X.shape[3]
    Xp = _padded(X, pad)
    sc, sh, sw, sn = Xp.strides
    view = _as_strided(Xp, (C, f[0], f[1], out_hw[0], out_hw[1], m),
                       (sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1], sn), writeable=False)
    np.copyto(col[:C * f[0] * f[1]].reshape(view.shape), view)


def conv_direct(Xp, W, b, s, d, Z):
    """Z (F, H_out, W_out, m) = b + the sum over window pixels (c, p, q) of W[:, c, p, q]
    times that pixel of every window of padded Xp: a convolution without the columns, one
    pass per window pixel, each adding its product to Z (so each number is summed in the
    order (c, p, q), as compiled.conv_direct sums it). b may be None."""
    C, fh, fw = W.shape[1:]
    Z[...] = 0 if b is None else b[:, None, None, None]
    for c in range(C):
        for p in range(fh):
            for q in range(fw):
                Z += W[:, c, p, q, None, None, None] * Xp[c, _offset(p * d[0], s[0], Z.shape[1]),
                                                          _offset(q * d[1], s[1], Z.shape[2])]
    return Z


def conv_direct_weight_grad(Xp, dZ, s, d, dW):
    """dW (F, C, f_h, f_w) of conv_direct: dW[f, c, p, q] = the sum of dZ[f] times pixel
    (p, q) of every window of channel c of padded Xp."""
    C, fh, fw = dW.shape[1:]
    for c in range(C):
        for p in range(fh):
            for q in range(fw):
                pixel = Xp[c, _offset(p * d[0], s[0], dZ.shape[1]), _offset(q * d[1], s[1], dZ.shape[2])]
                dW[:, c, p, q] = np.tensordot(dZ, pixel, axes=3)
    return dW


def col2im(dcol, shape, f, s, pad, d, out_hw):
    """The adjoint of im2col: each window pixel's column added back where it came from,
    offset by offset (p, q); dX (C, H, W, m) with the padding cut off."""
    dXp, dcol6 = col2im_buffers(dcol, shape, f, pad, out_hw)
    for p in range(f[0]):
        for q in range(f[1]):
            dXp[_window_pixel(p, q, f, s, d, out_hw)] += dcol6[:, p, q]
    return _cropped(dXp, pad, shape)


def col2im_buffers(dcol, shape, f, pad, out_hw):
    """(dXp, dcol6): padded dX of zeros to add into, and dcol's first C f_h f_w rows as
    (C, f_h, f_w, H_out, W_out, m), contiguous."""
    C, H, W, m = shape
    (t, b), (l, r) = pad
    dXp = np.zeros((C, H + t + b, W + l + r, m), dcol.dtype)
    dcol6 = np.ascontiguousarray(dcol[:C * f[0] * f[1]]).reshape(C, f[0], f[1], *out_hw, m)
    return dXp, dcol6


def max_pool(X, f, s, pad, out_hw, arg_dtype):
    """Z = the max of each window (padding is -inf), and arg = the window pixel p f_w + q it
    came from: the first maximum in row-major order, or the last NaN (as PyTorch)."""
    Xp = _padded(X, pad, -np.inf if X.dtype.kind == "f" else np.iinfo(X.dtype).min)
    Z = Xp[_window_pixel(0, 0, f, s, (1, 1), out_hw)].copy()
    arg = np.zeros(Z.shape, arg_dtype)
    for k in range(1, f[0] * f[1]):
        v = Xp[_window_pixel(k // f[1], k % f[1], f, s, (1, 1), out_hw)]
        take = (v > Z) | (v != v)  # noqa: PLR0124 - v != v: NaN, the max as in PyTorch
        np.copyto(Z, v, where=take)
        np.copyto(arg, k, where=take)
    return Z, arg


def max_pool_backward(dZ, arg, shape, f, s, pad):
    """dX: each window's dZ at its arg-max pixel, summed where windows overlap."""
    C, H, W, m = shape
    (t, b), (l, r) = pad
    dXp = np.zeros((C, H + t + b, W + l + r, m), dZ.dtype)
    for k in range(f[0] * f[1]):
        index = _window_pixel(k // f[1], k % f[1], f, s, (1, 1), dZ.shape[1:3])
        dXp[index] += np.where(arg == k, dZ, 0)
    return _cropped(dXp, pad, shape)


def avg_pool(X, f, s, pad, out_hw):
    """Z = (the sum of each window, pixel by pixel in row-major order) / (f_h f_w); padded
    pixels count as zeros (PyTorch's count_include_pad)."""
    Xp = _padded(X, pad)
    Z = np.zeros((X.shape[0], *out_hw, X.shape[3]), X.dtype)
    for k in range(f[0] * f[1]):
        Z += Xp[_window_pixel(k // f[1], k % f[1], f, s, (1, 1), out_hw)]
    Z *= X.dtype.type(1.0 / (f[0] * f[1]))
    return Z


def avg_pool_backward(dZ, shape, f, s, pad):
    """dX: dZ / (f_h f_w) to every pixel of its window, summed where windows overlap."""
    C, H, W, m = shape
    (t, b), (l, r) = pad
    share = dZ * dZ.dtype.type(1.0 / (f[0] * f[1]))
    dXp = np.zeros((C, H + t + b, W + l + r, m), dZ.dtype)
    for k in range(f[0] * f[1]):
        dXp[_window_pixel(k // f[1], k % f[1], f, s, (1, 1), dZ.shape[1:3])] += share
    return _cropped(dXp, pad, shape)


def axpy(a, x, y):
    """y += a x in place (BLAS's axpy): NumPy makes the temporary a x, then adds it."""
    y += a * x


def adam(w, g, v, s, beta1, beta2, step, s_scale, eps, s_max=None):
    """Adam's update in place (optim.Adam), a NumPy pass and a temporary per operation:
    v = beta1 v + (1 - beta1) g,  s = beta2 s + (1 - beta2) g^2,
    w -= step v / (sqrt(s_scale s) + eps),  step and s_scale holding the bias corrections;
    with s_max (amsgrad), s_max = max(s_max, s) takes s's place under the root."""
    v *= beta1
    v += (1.0 - beta1) * g
    s *= beta2
    s += (1.0 - beta2) * (g * g)
    if s_max is not None:
        np.maximum(s_max, s, out=s_max)
        s = s_max
    denom = np.sqrt(s * s_scale)
    denom += eps
    w -= step * v / denom


def relu(z, out):
    """out = max(z, 0): NaN stays NaN (with its sign bit), -0.0 becomes 0."""
    return np.maximum(z, 0, out=out)


def relu_backward(dA, A):
    """dZ = dA where A > 0, else 0 (0 at z = 0, as PyTorch), laid out as A."""
    dZ = np.zeros_like(A, dtype=dA.dtype)
    np.copyto(dZ, dA, where=A > 0)
    return dZ
