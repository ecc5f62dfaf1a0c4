"""The functional API, imported as F: activations, losses and the fused linear map.

    import gradwise.functional as F
    A1 = F.relu(F.linear(X, W1, b1))
    loss = F.cross_entropy(F.linear(A1, W2, b2), y)

Losses take logits where that is the stable form (cross_entropy,
binary_cross_entropy_with_logits); binary_cross_entropy takes probabilities, as in PyTorch.
Arguments are checked here, at the public boundary, so mistakes surface as messages that
name the shapes, not as NumPy errors from inside an op.
"""
from __future__ import annotations

import numpy as np

from . import backend, kernels
from .autograd import float_dtype
from .ops import activation as _act
from .ops import conv as _conv
from .ops import dropout as _dropout
from .ops import linear as _linear

# sigmoid, tanh, relu, softmax and log_softmax are defined with the ops (also Tensor methods)
from .ops import log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401
from .ops import loss as _loss
from .ops import normalization as _norm
from .ops.sequence import causal_mask, embedding, layer_norm, scaled_dot_product_attention  # noqa: F401
from .tensor import Tensor, as_tensor, to_numpy

_REDUCTIONS = ("mean", "sum", "none")


# ---- activations ---------------------------------------------------------------------
def step(z: Tensor) -> Tensor:
    """Heaviside step: 1 where z > 0, else 0 (zero gradient everywhere)."""
    return _act.Step()(z)


def identity(z: Tensor) -> Tensor:
    return z


def leaky_relu(z: Tensor, negative_slope: float = 0.01) -> Tensor:
    return _act.LeakyReLU(negative_slope)(z)


def softplus(z: Tensor) -> Tensor:
    """log(1 + e^z), computed stably."""
    return _act.Softplus()(z)


# ---- the dense layer's map -----------------------------------------------------------
def linear(X: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    """Z = X W^T + b with W of shape (out_features, in_features), as PyTorch and the course."""
    if W.ndim != 2:
        raise ValueError(f"linear: W must be 2-D (out_features, in_features), got {W.shape}")
    if X.ndim == 0 or X.shape[-1] != W.shape[1]:
        raise ValueError(
            f"linear: input has shape {X.shape} but W of shape {W.shape} expects "
            f"{W.shape[1]} input features (last axis)"
        )
    if b is not None and b.shape != (W.shape[0],):
        raise ValueError(f"linear: b must have shape ({W.shape[0]},), got {b.shape}")
    if X.dtype != W.dtype:
        raise TypeError(f"linear: input dtype {X.dtype} differs from weight dtype {W.dtype}")
    if b is None:
        return _linear.Linear()(X, W)
    return _linear.Linear()(X, W, b)


# ---- losses --------------------------------------------------------------------------
def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _labels(name: str, logits: Tensor, target) -> np.ndarray:
    """Integer class labels, checked against the number of classes before any computation."""
    t = to_numpy(target)
    m, C = logits.shape
    if t.shape != (m,):
        raise ValueError(f"{name}: labels must have shape ({m},) for input {logits.shape}, got {t.shape}")
    _check_class_labels(name, t, C)
    return t


def _check_class_labels(name: str, t: np.ndarray, C: int) -> None:
    """Integer labels, each in [0, C): else an error naming the first label at fault."""
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: integer labels expected, got dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= C):
        bad = t[(t < 0) | (t >= C)].flat[0]
        raise ValueError(f"{name}: label {bad} is outside [0, {C}) for {C} classes")


def one_hot(labels, num_classes: int = -1, dtype=np.int64) -> Tensor:
    """Class labels (...,) in [0, C) as one-hot rows (..., C): Y[..., c] = 1 where label = c.

    As torch.nn.functional.one_hot: int64 by default (pass dtype= for float targets, e.g.
    dtype=np.float32), num_classes=-1 takes C = the largest label + 1. A label outside
    [0, C) is an error. Data, not a graph input: the result does not require grad.
    """
    t = to_numpy(labels)
    if not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool) or \
            not (num_classes == -1 or num_classes >= 1):
        raise ValueError(f"one_hot: num_classes must be a positive integer or -1, got {num_classes!r}")
    if num_classes == -1:
        if t.dtype.kind in "iu" and t.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty set of labels: pass it")
        num_classes = int(t.max()) + 1 if t.dtype.kind in "iu" else 0
    _check_class_labels("one_hot", t, num_classes)
    Y = np.zeros(t.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(Y, t[..., None].astype(np.intp), 1, axis=-1)
    return Tensor(Y)


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy on logits (m, C).

    target: integer labels (m,) in [0, C), or probabilities / one-hot rows (m, C).
    The backward is fused: dZ = (softmax(Z) - Y) / m.
    """
    _check_reduction("cross_entropy", reduction)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (batch, classes), got {logits.shape}")
    t = to_numpy(target)
    if t.ndim == 2:
        if t.shape != logits.shape:
            raise ValueError(f"cross_entropy: target {t.shape} must match logits {logits.shape}")
        t = t.astype(logits.dtype, copy=False)
    else:
        t = _labels("cross_entropy", logits, t)
    return _loss.CrossEntropy(t, reduction)(logits)


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood on log-probabilities (m, C) (e.g. from log_softmax)."""
    _check_reduction("nll_loss", reduction)
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: input must be (batch, classes), got {log_probs.shape}")
    return _loss.NLLLoss(_labels("nll_loss", log_probs, target), reduction)(log_probs)


def _binary_target(name, x: Tensor, target) -> np.ndarray:
    y = to_numpy(target)
    if y.shape != x.shape:
        raise ValueError(f"{name}: target shape {y.shape} must equal input shape {x.shape}")
    return y.astype(x.dtype, copy=False)


def binary_cross_entropy(A: Tensor, target, reduction: str = "mean", eps: float = 1e-7) -> Tensor:
    """Cross-entropy on probabilities A in [0, 1], clipped to [eps, 1 - eps]."""
    _check_reduction("binary_cross_entropy", reduction)
    return _loss.BinaryCrossEntropy(_binary_target("binary_cross_entropy", A, target),
                                    reduction, eps)(A)


def binary_cross_entropy_with_logits(Z: Tensor, target, reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op: dZ = (sigmoid(Z) - Y) / m."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    return _loss.BCEWithLogits(_binary_target("binary_cross_entropy_with_logits", Z, target),
                               reduction)(Z)


def mse_loss(y_hat: Tensor, y, reduction: str = "mean") -> Tensor:
    """Mean squared error (y_hat - y)^2, averaged over all elements."""
    _check_reduction("mse_loss", reduction)
    y = as_tensor(y, like=y_hat)
    if y.shape != y_hat.shape:
        raise ValueError(f"mse_loss: input {y_hat.shape} and target {y.shape} must have the same shape")
    return _loss.MSELoss(reduction)(y_hat, y)


# ---- regularization and normalization ------------------------------------------------
def dropout(A: Tensor, p: float = 0.5, training: bool = True, mask=None, generator=None) -> Tensor:
    """Inverted dropout: each unit is zeroed with probability p (keep_prob = 1 - p) and the
    survivors are scaled by 1 / keep_prob, so nothing changes at evaluation time.

    The mask is drawn from `generator` (a numpy.random.Generator), by default gradwise's
    global one (gradwise.manual_seed). `mask` (0/1, shape of A) fixes the dropped units
    instead of drawing them.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    check_generator("dropout", generator)
    if mask is not None and generator is not None:
        raise ValueError("dropout: give either mask or generator, not both")
    if not training or p == 0.0:
        return A
    keep_prob = 1.0 - p
    if mask is None:
        rng = backend.rng() if generator is None else generator
        D = _dropout.keep_mask(rng, A.data, keep_prob)   # laid out as A
    else:
        D = np.asarray(to_numpy(mask), dtype=bool)
        if D.shape != A.shape:
            raise ValueError(f"dropout: mask shape {D.shape} must equal input shape {A.shape}")
    dtype = float_dtype(A.dtype)  # D / keep_prob is a fraction: integer input gives floats
    scaled = D.astype(dtype) / dtype.type(keep_prob) if keep_prob > 0 else np.zeros(A.shape, dtype)
    return _dropout.Dropout(scaled)(A)


def check_generator(name: str, generator) -> None:
    """None (gradwise's global generator) or a numpy.random.Generator of the caller's own."""
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"{name}: generator must be a numpy.random.Generator (or None for "
                        f"gradwise's global one), got {type(generator).__name__}")


def batch_norm(X: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor, bias: Tensor, training: bool = True, momentum: float = 0.1,
               eps: float = 1e-5, unbiased: bool = True) -> Tensor:
    """Batch normalization over axis 1 (features of (m, C), channels of (m, C, H, W)).

    training=True normalizes with the batch's statistics and updates the running ones in
    place with PyTorch's convention: running = (1 - momentum) running + momentum batch, the
    running variance taking the unbiased batch variance (m / (m - 1) times the one used to
    normalize; unbiased=False: that one itself, as Deep Learning from Scratch's
    BatchNormalization does). (Keras' momentum 0.99 is 1 - ours.)
    training=False normalizes with the running statistics.
    """
    if X.ndim < 2 or X.shape[1] != weight.shape[0]:
        raise ValueError(
            f"batch_norm: input {X.shape} must have {weight.shape[0]} features/channels on axis 1"
        )
    if not training:
        if running_mean is None:
            raise ValueError("batch_norm: evaluation mode needs running statistics")
        return _norm.BatchNorm(eps, running_mean.data, running_var.data)(X, weight, bias)
    m = X.size // X.shape[1]
    if m < 2:
        raise ValueError(
            f"batch_norm: expected more than one value per channel in training, got input {X.shape}"
        )
    op = _norm.BatchNorm(eps)
    Y = op(X, weight, bias)
    if running_mean is not None:
        running_mean.data *= 1 - momentum
        running_mean.data += momentum * op.mean
        running_var.data *= 1 - momentum
        running_var.data += momentum * op.var * (m / (m - 1) if unbiased else 1.0)
    return Y


# ---- convolution and pooling (NCHW) ------------------------------------------------------
def _pair(name: str, v, what: str) -> tuple:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or any((not isinstance(x, (int, np.integer))) or x < 1 for x in pair):
        raise ValueError(f"{name}: {what} must be a positive int or a pair of them, got {v!r}")
    return tuple(int(x) for x in pair)


def _padding(name: str, padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same'."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride}")
        total = [d * (f - 1) for f, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    pair = (padding, padding) if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(pair) != 2 or any((not isinstance(p, (int, np.integer))) or p < 0 for p in pair):
        raise ValueError(f"{name}: padding must be a non-negative int, a pair, 'valid' or 'same', got {padding!r}")
    return tuple((int(p), int(p)) for p in pair)


def _images(name: str, X: Tensor) -> None:
    if X.ndim != 4:
        raise ValueError(f"{name}: expected a batch of images (N, C, H, W), got shape {X.shape}")


def _out_hw(name, X, kernel, stride, pad, dilation=(1, 1)):
    hw = []
    for n, f, s, (a, b), d in zip(X.shape[2:], kernel, stride, pad, dilation):
        o = _conv.out_size(n, f, s, a + b, d)
        if o < 1:
            raise ValueError(
                f"{name}: a {kernel[0]}x{kernel[1]} window (stride {stride}, padding {pad}, dilation "
                f"{dilation}) does not fit an input of {X.shape[2]}x{X.shape[3]}: output size "
                f"floor((n + 2p - d(f - 1) - 1) / s) + 1 would be {o}"
            )
        hw.append(o)
    return tuple(hw)


def conv2d(X: Tensor, W: Tensor, b: Tensor | None = None, stride=1, padding=0, dilation=1) -> Tensor:
    """2-D convolution (cross-correlation, as every framework) of X (m, C, H, W) with filters
    W (F, C, f, f): output (m, F, H_out, W_out), H_out = floor((H + 2p - d(f-1) - 1)/s) + 1.

    padding: int, (p_h, p_w), 'valid' (0) or 'same' (output size = input size; stride 1).
    """
    _images("conv2d", X)
    if W.ndim != 4:
        raise ValueError(f"conv2d: filters must be (F, C, f_h, f_w), got {W.shape}")
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"conv2d: input has {X.shape[1]} channels {X.shape} but the filters "
                         f"{W.shape} expect {W.shape[1]}")
    if b is not None and b.shape != (W.shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({W.shape[0]},), got {b.shape}")
    if X.dtype != W.dtype:
        raise TypeError(f"conv2d: input dtype {X.dtype} differs from filter dtype {W.dtype}")
    stride = _pair("conv2d", stride, "stride")
    dilation = _pair("conv2d", dilation, "dilation")
    kernel = W.shape[2:]
    pad = _padding("conv2d", padding, kernel, stride, dilation)
    _out_hw("conv2d", X, kernel, stride, pad, dilation)
    op = _conv.Conv2d(stride, pad, dilation)
    return op(X, W) if b is None else op(X, W, b)


def im2col(X, filter_h: int, filter_w: int, stride=1, pad=0) -> np.ndarray:
    """The book's im2col: the filter_h x filter_w windows of images X (N, C, H, W), padded by
    `pad` with zeros on every side and taken every `stride` pixels, as the rows of a matrix

        col (N OH OW, C filter_h filter_w),  OH = (H + 2 pad - filter_h) // stride + 1

    one row per output position (n, i, j) in that order, holding its window in (c, p, q)
    order, so that a convolution is one product: col @ W.reshape(F, -1).T gives the output
    as (N OH OW, F). stride and pad are ints or (height, width) pairs. Arrays in and out (a
    Tensor's data is used), for teaching and for hand-written layers; F.conv2d is the
    differentiable convolution (its own columns are laid out for its GEMM).
    """
    X = to_numpy(X)
    kernel, s, pad = _window_args("im2col", X, filter_h, filter_w, stride, pad)
    Ho, Wo = _out_hw("im2col", X, kernel, s, pad)
    col = kernels.im2col(kernels.batch_last(X), kernel, s, pad, (1, 1), (Ho, Wo))  # (K, OH OW N)
    # rows (n, i, j), columns (c, p, q): one copy, never a view of X
    return np.ascontiguousarray(col.reshape(-1, Ho, Wo, X.shape[0]).transpose(3, 1, 2, 0)).reshape(
        X.shape[0] * Ho * Wo, -1)


def col2im(col, input_shape, filter_h: int, filter_w: int, stride=1, pad=0) -> np.ndarray:
    """The book's col2im, the transpose (adjoint) of im2col: every row of col (N OH OW,
    C filter_h filter_w) is added back at its window of an (N, C, H, W) array, windows that
    overlap summing (the gradient of im2col), and the padding is cut off. Arrays in and out."""
    col = to_numpy(col)
    shape = tuple(int(n) for n in input_shape)
    like = np.broadcast_to(np.zeros((), np.bool_), shape)  # an input of that shape, no memory
    kernel, s, pad = _window_args("col2im", like, filter_h, filter_w, stride, pad)
    N, C = shape[:2]
    Ho, Wo = _out_hw("col2im", like, kernel, s, pad)
    expected = (N * Ho * Wo, C * kernel[0] * kernel[1])
    if col.shape != expected:
        raise ValueError(f"col2im: col must have shape {expected} for input {shape}, "
                         f"{kernel[0]}x{kernel[1]} windows, stride {s}, pad {pad}; got {col.shape}")
    dcol = col.reshape(N, Ho * Wo, -1).transpose(2, 1, 0).reshape(col.shape[1], -1)  # (K, OH OW N)
    Xt = kernels.col2im(dcol, (C, *shape[2:], N), kernel, s, pad, (1, 1), (Ho, Wo))
    return np.ascontiguousarray(kernels.from_batch_last(Xt))


def _window_args(name, X, filter_h, filter_w, stride, pad):
    """((fh, fw), (s_h, s_w), ((top, bottom), (left, right))) for im2col and col2im."""
    _images(name, X)
    kernel = (filter_h, filter_w)
    if any((not isinstance(f, (int, np.integer))) or f < 1 for f in kernel):
        raise ValueError(f"{name}: filter_h and filter_w must be positive ints, got {kernel}")
    kernel = (int(filter_h), int(filter_w))
    s = _pair(name, stride, "stride")
    p = (pad, pad) if isinstance(pad, (int, np.integer)) else tuple(pad)
    if len(p) != 2 or any((not isinstance(v, (int, np.integer))) or v < 0 for v in p):
        raise ValueError(f"{name}: pad must be a non-negative int or a pair of them, got {pad!r}")
    return kernel, s, tuple((int(v), int(v)) for v in p)


def _pool(name, op_cls, X, kernel_size, stride, padding):
    _images(name, X)
    kernel = _pair(name, kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(name, stride, "stride")
    pad = _padding(name, padding, kernel, stride, (1, 1))
    if any(p > f // 2 for (p, _), f in zip(pad, kernel)):
        raise ValueError(f"{name}: padding {padding} must be at most half the kernel {kernel}")
    _out_hw(name, X, kernel, stride, pad)
    return op_cls(kernel, stride, pad)(X)


def max_pool2d(X: Tensor, kernel_size=2, stride=None, padding=0) -> Tensor:
    """Max over f x f windows (stride defaults to the kernel size, as PyTorch)."""
    return _pool("max_pool2d", _conv.MaxPool2d, X, kernel_size, stride, padding)


def avg_pool2d(X: Tensor, kernel_size=2, stride=None, padding=0) -> Tensor:
    """Mean over f x f windows (padded zeros count, as PyTorch's default)."""
    return _pool("avg_pool2d", _conv.AvgPool2d, X, kernel_size, stride, padding)


def global_avg_pool2d(X: Tensor) -> Tensor:
    """(m, C, H, W) -> (m, C, 1, 1): the mean of each channel (AdaptiveAvgPool2d((1, 1)))."""
    _images("global_avg_pool2d", X)
    return X.mean(axis=(2, 3), keepdims=True)


def zero_pad(X: Tensor, pad) -> Tensor:
    """The course's zero_pad: pad H and W of (m, C, H, W) images with zeros (int or pair)."""
    _images("zero_pad", X)
    p = _padding("zero_pad", pad, (1, 1), (1, 1), (1, 1))
    from .ops import pad as _pad_op

    return _pad_op(X, ((0, 0), (0, 0)) + p)
