"""Convolution and pooling on NCHW images, on strided views of the input.

Notation as in the course: input X (m, C, H, W), filters W (F, C, f, f), bias b (F,),
output Z (m, F, H_out, W_out) with H_out = floor((H + 2p - d(f - 1) - 1) / s) + 1.

Convolution
    Forward: the f x f windows of X are a strided *view* (no copy) of shape
    (m, C, f, f, H_out, W_out); one copy turns it into the column matrix
    col (m, C f f, H_out W_out) and one batched GEMM gives Z = W_2d @ col, already NCHW.
    Backward: dW = sum over the batch of dZ @ col^T      (the same columns, reused)
              dcol = W_2d^T @ dZ, then col2im: for each of the f x f kernel offsets, add the
              slice of dcol into X's gradient at that offset (strided slices, no np.add.at).
              This step works batch-last, (C, H, W, m): see col2im.

Pooling: max and mean over a window are separable, so a pooling layer pools along W, then
along H, each stage f passes over strided slices of one axis (see the pooling section below)
instead of a reduction over small window axes, which NumPy does slowly.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, is_grad_enabled

_as_strided = np.lib.stride_tricks.as_strided

_MIN_WORK = 1 << 16
"""Numbers a chunk of a threaded kernel should at least touch (about 20-50 us of copying):
below that, handing the work to another thread costs more than it saves."""


def _batch_split(rows, m: int, **kw) -> None:
    """rows(i, j) over the batch: with no graph to record (no_grad), a share of the batch per
    thread (backend.parallel_for; each example is computed as in the whole, so the numbers
    are the same); while training, at once on the calling thread. Training's backward runs
    large GEMMs on BLAS's own threads, whose helpers keep spinning after each call and
    would take the core a second gradwise thread needs (measured: 5-8% slower epochs)."""
    if is_grad_enabled():
        rows(0, m)
    else:
        backend.parallel_for(rows, m, **kw)


def out_size(n: int, f: int, s: int, pad_total: int, d: int = 1) -> int:
    """floor((n + 2p - d (f - 1) - 1) / s) + 1, with 2p given as the total padding."""
    return (n + pad_total - d * (f - 1) - 1) // s + 1


def windows(Xp: np.ndarray, f: tuple, s: tuple, d: tuple, out_hw: tuple) -> np.ndarray:
    """A view (m, C, fh, fw, H_out, W_out) of the f x f windows of a padded input."""
    m, C = Xp.shape[:2]
    sm, sc, sh, sw = Xp.strides
    return _as_strided(
        Xp,
        shape=(m, C, f[0], f[1], out_hw[0], out_hw[1]),
        strides=(sm, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]),
        writeable=False,
    )


def pad_images(X: np.ndarray, pad: tuple, value=0.0) -> np.ndarray:
    """Pad H by (top, bottom) and W by (left, right): the course's zero_pad.
    (One allocation and one copy of X; np.pad is several times slower on small images.)"""
    (t, b), (l, r) = pad
    if not (t or b or l or r):
        return X
    m, C, H, W = X.shape
    shape = (m, C, H + t + b, W + l + r)
    Xp = np.zeros(shape, X.dtype) if value == 0 else np.full(shape, value, X.dtype)
    Xp[:, :, t:t + H, l:l + W] = X
    return Xp


def unpad(dXp: np.ndarray, pad: tuple) -> np.ndarray:
    (t, b), (l, r) = pad
    H, W = dXp.shape[2:]
    return dXp[:, :, t:H - b, l:W - r]


def _offset(start: int, stride: int, n: int) -> slice:
    """The input rows (or columns) that kernel offset `start` touches for n outputs."""
    return slice(start, start + stride * (n - 1) + 1, stride)


def col2im(dcol: np.ndarray, shape_p: tuple, s: tuple, d: tuple) -> np.ndarray:
    """Sum the window gradients dcol (C, fh, fw, H_out, W_out, m) back into an input gradient
    of the padded shape, kept batch-last: (C, H_p, W_p, m). One strided add per kernel
    offset; with the batch as the innermost axis each add runs over W_out m contiguous
    numbers (NCHW would give runs of W_out, and NumPy pays per run)."""
    C, fh, fw, Ho, Wo, m = dcol.shape
    dXt = np.zeros((C, shape_p[2], shape_p[3], m), dtype=dcol.dtype)
    for p in range(fh):
        for q in range(fw):
            dXt[:, _offset(p * d[0], s[0], Ho), _offset(q * d[1], s[1], Wo)] += dcol[:, p, q]
    return dXt


_BATCH_LAST_MAX_WO = 16
"""Training layers of stride 1 with outputs at most this wide build their columns batch-last
(see Conv2d): the im2col copy of an NCHW input moves runs of W_out numbers, and NumPy pays
per run, so for narrow outputs that copy costs more than transposing the input and the
output. Measured (batch 100, one thread, forward + backward): LeNet-5's 6 -> 16 layer
(W_out = 10) 0.82x the time, 16 -> 16 3x3 on 8 x 8 0.84x, 32 -> 64 3x3 on 14 x 14 0.88x,
64 -> 64 on 8 x 8 1.00x; LeNet-5's first layer (W_out = 28) 1.02x, SimpleConvNet's (W_out =
24, 30 filters) 1.8x and a stride-2 layer (16 -> 32, 16 x 16) 1.10x keep batch-first columns."""


class Conv2d(Function):
    """Z = W * X + b as one batched GEMM on the im2col columns.

    The bias rides in the GEMM, as the course folds b into W with an input x0 = 1: the
    columns get a row of ones and W_2d a column b, so that Z = [W_2d | b] @ [col; 1] needs no
    separate pass over Z, and in backward the same GEMM that gives dW gives db = dZ @ 1.

    Training layers with narrow outputs (stride 1, W_out <= _BATCH_LAST_MAX_WO) lay columns
    out batch-last instead, col (C f f + 1, H_out W_out m), copied from the input moved to
    (C, H, W, m): each window row is then one run of W_out m numbers. Z is one GEMM (then
    transposed back to NCHW) and [dW | db] = dZ_t @ col^T one GEMM over the batch-last dZ_t
    that dX uses too. The numbers are the same dot products, summed over the batch by one
    GEMM instead of per example: equal to float32 rounding.
    """

    fresh_grads = True  # dX, dW, db are new arrays

    def __init__(self, stride=(1, 1), pad=((0, 0), (0, 0)), dilation=(1, 1)):
        self.s, self.pad, self.d = stride, pad, dilation

    def forward(self, X, W, b=None):
        F_, C, fh, fw = W.shape
        self.f, K = (fh, fw), C * fh * fw
        (t, bottom), (l, r) = self.pad
        m = X.shape[0]
        self.shape_p = (m, C, X.shape[2] + t + bottom, X.shape[3] + l + r)
        Ho = out_size(self.shape_p[2], fh, self.s[0], 0, self.d[0])
        Wo = out_size(self.shape_p[3], fw, self.s[1], 0, self.d[1])
        self.W2 = W.reshape(F_, K)
        W2b = self.W2 if b is None else np.concatenate([self.W2, b[:, None]], axis=1)  # [W_2d | b]
        self.batch_last = is_grad_enabled() and Wo <= _BATCH_LAST_MAX_WO and self.s[1] == 1
        if self.batch_last:
            return self._forward_batch_last(X, W2b, K, (Ho, Wo))
        self.col = col = np.empty((m, K + (b is not None), Ho * Wo), dtype=X.dtype)
        Z = np.empty((m, F_, Ho * Wo), dtype=X.dtype)
        col_view = col.strides[:1] + _split(col, C, fh, fw, Wo)

        def rows(i, j):
            # im2col for examples i..j: one copy of the windows view, laid out for the GEMM
            Xp = pad_images(X[i:j], self.pad)
            np.copyto(_as_strided(col[i:j], (j - i, C, fh, fw, Ho, Wo), col_view),
                      windows(Xp, self.f, self.s, self.d, (Ho, Wo)))
            if b is not None:
                col[i:j, K] = 1
            np.matmul(W2b, col[i:j], out=Z[i:j])                    # (j - i, F, Ho Wo)

        _batch_split(rows, m, min_chunk=_MIN_WORK // col[0].size + 1, blas=True)
        return Z.reshape(m, F_, Ho, Wo)

    def _forward_batch_last(self, X, W2b, K, out_hw):
        """Z from batch-last columns (see the class docstring); saves them as self.col."""
        m, C, H, W = X.shape
        (t, _), (l, _) = self.pad
        Ho, Wo = out_hw
        padded = self.shape_p[2:] != (H, W)
        Xt = (np.zeros if padded else np.empty)(self.shape_p[1:] + (m,), X.dtype)  # (C, H_p, W_p, m)
        Xt[:, t:t + H, l:l + W] = X.transpose(1, 2, 3, 0)
        sc, sh, sw, sm = Xt.strides
        view = _as_strided(Xt, (C, *self.f, Ho, Wo, m),
                           (sc, sh * self.d[0], sw * self.d[1], sh * self.s[0], sw * self.s[1], sm),
                           writeable=False)
        self.col = col = np.empty((W2b.shape[1], Ho * Wo * m), X.dtype)
        np.copyto(col[:K].reshape(C, *self.f, Ho, Wo, m), view)
        col[K:] = 1                                            # the bias row, if any
        Zt = W2b @ col                                         # (F, Ho Wo m)
        return np.ascontiguousarray(Zt.reshape(-1, Ho, Wo, m).transpose(3, 0, 1, 2))

    def backward(self, dZ):
        m, F_, Ho, Wo = dZ.shape
        K = self.W2.shape[1]
        dX = dW = db = None
        dZt = None
        if self.needs_grad[0] or self.batch_last:
            dZt = dZ.transpose(1, 2, 3, 0).reshape(F_, -1)     # batch-last dZ (F, Ho Wo m)
        if self.needs_grad[1] or (len(self.needs_grad) == 3 and self.needs_grad[2]):
            if self.batch_last:  # [dW | db] = dZ_t [col; 1]^T, one GEMM over the whole batch
                dWb = dZt @ self.col.T
            else:                # [dW | db] = sum over examples i of dZ_i [col_i; 1]^T
                dWb = _sum_of_products(dZ.reshape(m, F_, Ho * Wo), self.col)
            dW = dWb[:, :K].reshape(F_, -1, *self.f)
            db = dWb[:, K].copy() if len(self.needs_grad) == 3 else None
        if self.needs_grad[0]:
            # dcol = W_2d^T dZ as one GEMM over the batch-last dZ (F, Ho Wo m), then col2im
            dcol = (self.W2.T @ dZt).reshape(self.shape_p[1], *self.f, Ho, Wo, m)
            dXt = col2im(dcol, self.shape_p, self.s, self.d)
            (t, b), (l, r) = self.pad
            Hp, Wp = self.shape_p[2:]
            dX = np.ascontiguousarray(dXt[:, t:Hp - b, l:Wp - r].transpose(3, 0, 1, 2))
        return (dX, dW, db) if len(self.needs_grad) == 3 else (dX, dW)


_CHUNK = 1 << 20  # numbers in one batched-GEMM partial result of dW (4 MiB in float32)


def _sum_of_products(dZ: np.ndarray, col: np.ndarray) -> np.ndarray:
    """sum over i of dZ[i] @ col[i]^T: batched GEMMs over chunks of the batch, each chunk's
    (chunk, F, K) products summed at once; chunks keep that temporary small for wide layers
    (VGG's 512 x 4608 filters: one example at a time), while small layers do the whole
    batch in one call."""
    m, F_, K = len(dZ), dZ.shape[1], col.shape[1]
    step = max(1, _CHUNK // (F_ * K))
    total = None
    for i in range(0, m, step):
        part = np.matmul(dZ[i:i + step], col[i:i + step].transpose(0, 2, 1)).sum(axis=0)
        total = part if total is None else np.add(total, part, out=total)
    return total


def _split(col: np.ndarray, C: int, fh: int, fw: int, Wo: int) -> tuple:
    """Strides that view the rows of col (m, K, Ho Wo) as (C, fh, fw) and its columns as
    (Ho, Wo), leaving out any extra row (the bias row of ones) after the first C fh fw."""
    _, row, item = col.strides
    return (fh * fw * row, fw * row, row, Wo * item, item)


# ---- pooling -----------------------------------------------------------------------------
# Max and mean over an f x f window are separable: pool along the rows (W) first, giving
# Y (m, C, H_p, W_out), then along the columns (H), giving Z (m, C, H_out, W_out). Each stage
# is f passes over strided slices of one axis. Along W, when the windows tile the rows
# (stride = kernel), the slice A[..., k::f] is one long run of stride f that NumPy walks in a
# single loop, so the stage on the full-size input is the cheap one. The backward runs the
# stages in reverse, and where the windows tile, it writes each slice of the gradient once,
# without zero-filling or adding.

def _slices(axis: int, f: int, s: int, n_out: int) -> list:
    """For k = 0..f-1, the index (along `axis`, 2 for H or 3 for W) of element k of every
    window: A[index] has n_out entries along that axis."""
    index = [slice(None)] * 4
    out = []
    for k in range(f):
        index[axis] = _offset(k, s, n_out)
        out.append(tuple(index))
    return out


def _tiled(n: int, f: int, s: int, n_out: int) -> bool:
    """The windows cover the axis exactly once: each input pixel is in one window."""
    return s == f and n == f * n_out


def _reduce_along(ufunc, A, axis, f, s, n_out, out=None):
    """ufunc (np.maximum or np.add) folded over the f slices: the max or sum of each window."""
    slices = _slices(axis, f, s, n_out)
    if f == 1:
        if out is None:
            return A[slices[0]].copy()
        out[...] = A[slices[0]]
        return out
    R = ufunc(A[slices[0]], A[slices[1]], out=out)
    for index in slices[2:]:
        ufunc(R, A[index], out=R)
    return R


def _pool_forward(ufunc, Xp, f, s, scale=None, keep_rows=True):
    """Y = the ufunc-reduction of every window row (along W), Z = that of Y's columns (along
    H), times scale if given; a share of the batch per thread (each example as in the whole).

    keep_rows=False (max pooling with no graph to record: backward needs Y, inference does
    not) reduces along H first instead, on slices whose rows are contiguous runs NumPy can
    vectorize, and returns Y as None; the max is the same either way (30% less time for
    SimpleConvNet's pooling)."""
    m, C, Hp, Wp = Xp.shape
    Ho, Wo = out_size(Hp, f[0], s[0], 0), out_size(Wp, f[1], s[1], 0)
    Y = np.empty((m, C, Hp, Wo), Xp.dtype) if keep_rows else None
    Z = np.empty((m, C, Ho, Wo), Xp.dtype)

    def rows(i, j):
        if keep_rows:
            _reduce_along(ufunc, Xp[i:j], 3, f[1], s[1], Wo, out=Y[i:j])
            _reduce_along(ufunc, Y[i:j], 2, f[0], s[0], Ho, out=Z[i:j])
        else:
            columns = _reduce_along(ufunc, Xp[i:j], 2, f[0], s[0], Ho)
            _reduce_along(ufunc, columns, 3, f[1], s[1], Wo, out=Z[i:j])
        if scale is not None:
            Z[i:j] *= scale

    _batch_split(rows, m, min_chunk=_MIN_WORK // Xp[0].size + 1)
    return Y, Z


def _max_grad(A, M, dM, axis, f, s):
    """The gradient for A of M = max of A over windows along axis: each window's dM goes to
    its first element equal to the max (ties: the first wins, as PyTorch)."""
    n, n_out = A.shape[axis], M.shape[axis]
    tiled = _tiled(n, f, s, n_out)
    dA = np.empty(A.shape, dM.dtype) if tiled else np.zeros(A.shape, dM.dtype)
    free = np.ones(M.shape, dtype=bool)    # no earlier element of the window was its max
    hit = np.empty(M.shape, dtype=bool)
    for k, index in enumerate(_slices(axis, f, s, n_out)):
        if k < f - 1:
            np.equal(A[index], M, out=hit)
            hit &= free
            free &= ~hit
        else:                              # the max is in the window: if not before, here
            hit = free                     # (so a window whose max is NaN sends it here)
        if tiled:
            np.multiply(dM, hit, out=dA[index])
        else:
            dA[index] += dM * hit
    return dA


def _spread(dS, shape, axis, f, s):
    """The gradient for A of S = sum of A over windows along axis: dS to every element."""
    n_out = dS.shape[axis]
    if _tiled(shape[axis], f, s, n_out):
        dA = np.empty(shape, dS.dtype)
        for index in _slices(axis, f, s, n_out):
            dA[index] = dS
    else:
        dA = np.zeros(shape, dS.dtype)
        for index in _slices(axis, f, s, n_out):
            dA[index] += dS
    return dA


class MaxPool2d(Function):
    """Max over each window; the gradient goes to the window's arg-max (the first on ties,
    in row-major order, as PyTorch).

    Forward: Y = max along W of each window row, Z = max along H of Y. (Under no_grad,
    with no backward to come, the forward takes H first and saves nothing: the same Z.)
    Backward: dZ goes to the first row of the window whose Y equals Z, then within that
    row to the first pixel that equals Y: the first maximum in row-major order.
    """

    fresh_grads = True

    def __init__(self, kernel=(2, 2), stride=(2, 2), pad=((0, 0), (0, 0))):
        self.f, self.s, self.pad = kernel, stride, pad

    def forward(self, X):
        value = -np.inf if X.dtype.kind == "f" else np.iinfo(X.dtype).min
        Xp = pad_images(X, self.pad, value)
        if not is_grad_enabled():  # nothing will call backward: no Y, no saved arrays
            return _pool_forward(np.maximum, Xp, self.f, self.s, keep_rows=False)[1]
        self.Xp = Xp
        self.Y, self.Z = _pool_forward(np.maximum, Xp, self.f, self.s)
        return self.Z

    def backward(self, dZ):
        dY = _max_grad(self.Y, self.Z, dZ, 2, self.f[0], self.s[0])
        dXp = _max_grad(self.Xp, self.Y, dY, 3, self.f[1], self.s[1])
        return unpad(dXp, self.pad)


class AvgPool2d(Function):
    """Mean over each window (padding counts as zeros, as PyTorch's count_include_pad).

    Forward: Z = (sum along H of the sums along W of each window) / (f f).
    Backward: every pixel of a window gets dZ / (f f) (summed where windows overlap).
    """

    float_valued = True
    fresh_grads = True

    def __init__(self, kernel=(2, 2), stride=(2, 2), pad=((0, 0), (0, 0))):
        self.f, self.s, self.pad = kernel, stride, pad

    def forward(self, X):
        Xp = pad_images(X, self.pad)
        self.shape_p = Xp.shape
        Y, Z = _pool_forward(np.add, Xp, self.f, self.s, Xp.dtype.type(1.0 / (self.f[0] * self.f[1])))
        self.shape_y = Y.shape
        return Z

    def backward(self, dZ):
        scale = dZ.dtype.type(1.0 / (self.f[0] * self.f[1]))
        (fh, fw), (sh, sw), (m, C, Hp, Wp) = self.f, self.s, self.shape_p
        Ho, Wo = dZ.shape[2:]
        if _tiled(Hp, fh, sh, Ho) and _tiled(Wp, fw, sw, Wo):
            # Windows that tile the input: every pixel gets its window's dZ / (f f), only
            # copies, so the order of the stages is free. Along W first, on the small
            # (Ho, Wp) array, then along H, where each write is whole rows of Wp: the same
            # numbers as below, 10% less time (LeNet-5's layers), no temporary for dZ / (f f).
            dYw = np.empty((m, C, Ho, Wp), dZ.dtype)
            slices = _slices(3, fw, sw, Wo)
            np.multiply(dZ, scale, out=dYw[slices[0]])
            for index in slices[1:]:
                dYw[index] = dYw[slices[0]]
            dXp = np.empty(self.shape_p, dZ.dtype)
            for index in _slices(2, fh, sh, Ho):
                dXp[index] = dYw
            return unpad(dXp, self.pad)
        share = dZ * scale
        dY = _spread(share, self.shape_y, 2, self.f[0], self.s[0])
        dXp = _spread(dY, self.shape_p, 3, self.f[1], self.s[1])
        return unpad(dXp, self.pad)
