"""The kernels (gradwise.kernels): the compiled ones compute the NumPy reference's numbers bit
for bit, on batch 1, odd sizes, stride 2, padding, dilation, ties, NaN and -inf; the layout
helpers; the choice of implementation and the NumPy fallback when numba is missing; and the
ops on either implementation against PyTorch."""
import sys

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import kernels, nn, optim
from gradwise.kernels import reference

compiled = pytest.importorskip("gradwise.kernels.compiled")

# (C, H, W, m), window f, stride s, padding ((top, bottom), (left, right)), dilation d
CASES = [
    ((3, 7, 9, 5), (3, 2), (1, 2), ((1, 2), (0, 1)), (1, 1)),
    ((2, 8, 8, 1), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),     # batch 1
    ((1, 28, 28, 4), (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1)),   # LeNet-5's first layer
    ((6, 14, 14, 3), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),   # its pooling
    ((2, 9, 11, 3), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),    # overlapping, stride 2
    ((2, 9, 11, 1), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),    # the same at batch 1
    ((2, 10, 10, 2), (3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2)),   # dilation 2
    ((1, 5, 5, 2), (1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1)),     # 1 x 1
    ((2, 6, 16, 3), (2, 7), (1, 2), ((0, 0), (1, 1)), (1, 2)),    # 7 = 5 + 1 + 1 taps, strided
    ((1, 6, 9, 2), (2, 4), (1, 1), ((0, 0), (0, 0)), (1, 1)),     # 4 = 3 + 1 taps
]


def _out_hw(shape, f, s, pad, d):
    return tuple((n + sum(p) - dd * (ff - 1) - 1) // ss + 1
                 for n, ff, ss, p, dd in zip(shape[1:3], f, s, pad, d))


def _poolable(f, pad, d):
    return d == (1, 1) and all(p <= ff // 2 for ff, p in zip(f, (pad[0][0], pad[1][0])))


@pytest.fixture(params=["numba", "numpy"])
def impl(request):
    """Run a test on each implementation; the default comes back after."""
    before = kernels.in_use()
    kernels.use(request.param)
    yield request.param
    kernels.use(before)


def _both(name, *args):
    return getattr(compiled, name)(*args), getattr(reference, name)(*args)


def _im2col_by_loops(X, f, s, pad, d, out_hw):
    """The definition: col[(c, p, q), (i, j, n)] = pixel (p, q) of window (i, j) of image n,
    0 in the padding."""
    C, H, W, m = X.shape
    col = np.zeros((C, f[0], f[1], *out_hw, m), X.dtype)
    for c, p, q, i, j in np.ndindex(C, f[0], f[1], *out_hw):
        y, x = i * s[0] - pad[0][0] + p * d[0], j * s[1] - pad[1][0] + q * d[1]
        if 0 <= y < H and 0 <= x < W:
            col[c, p, q, i, j] = X[c, y, x]
    return col.reshape(C * f[0] * f[1], -1)


@pytest.mark.parametrize("shape,f,s,pad,d", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_is_its_definition_and_col2im_its_adjoint(shape, f, s, pad, d, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape).astype(dtype)
    out_hw = _out_hw(shape, f, s, pad, d)
    col = kernels.im2col(X, f, s, pad, d, out_hw, bias_row=True)
    np.testing.assert_array_equal(col[:-1], _im2col_by_loops(X, f, s, pad, d, out_hw))
    assert (col[-1] == 1).all() and col.dtype == dtype
    dcol = rng.normal(size=col.shape).astype(dtype)
    dX = kernels.col2im(dcol, shape, f, s, pad, d, out_hw)   # the bias row is left out
    np.testing.assert_array_equal(*_both("col2im", dcol, shape, f, s, pad, d, out_hw))
    assert dX.shape == shape and dX.dtype == dtype and dX.flags.c_contiguous
    # the adjoint: <im2col(X), dcol> = <X, col2im(dcol)>, for every X: so on a basis
    basis = np.zeros(shape, dtype)
    for index in [(0, 0, 0, 0), tuple(n - 1 for n in shape), (0, shape[1] // 2, shape[2] // 2, 0)]:
        basis[index] = 1
        expected = np.vdot(_im2col_by_loops(basis, f, s, pad, d, out_hw), dcol[:-1])
        np.testing.assert_allclose(dX[index], expected, rtol=1e-6)
        basis[index] = 0
    np.testing.assert_allclose(np.vdot(col[:-1], dcol[:-1]), np.vdot(X, dX), rtol=1e-4)


@pytest.mark.parametrize("shape,f,s,pad,d", [c for c in CASES if _poolable(c[1], c[3], c[4])])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_is_the_reference_bit_for_bit(shape, f, s, pad, d, dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=shape).astype(dtype)
    X[0, :2, :2] = 0.5                        # ties: the first maximum wins
    X[-1, -1, -1, 0] = np.nan                 # NaN is the max, as in PyTorch
    X[0, 0, -1, -1] = -np.inf
    out_hw = _out_hw(shape, f, s, pad, d)
    (Z, arg), (Zr, argr) = _both("max_pool", X, f, s, pad, out_hw, np.uint8)
    np.testing.assert_array_equal(Z, Zr)
    np.testing.assert_array_equal(arg, argr)
    assert arg.dtype == np.uint8 and Z.shape == (shape[0], *out_hw, shape[3])
    dZ = rng.normal(size=Z.shape).astype(dtype)
    np.testing.assert_array_equal(*_both("max_pool_backward", dZ, arg, shape, f, s, pad))
    np.testing.assert_array_equal(*_both("avg_pool", X, f, s, pad, out_hw))
    np.testing.assert_array_equal(*_both("avg_pool_backward", dZ, shape, f, s, pad))


@pytest.mark.parametrize("shape,f,s,pad,d", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_filters,bias", [(1, True), (2, False), (5, True)])  # pairs and one alone
def test_the_direct_convolution_is_the_gemm_on_the_columns(shape, f, s, pad, d, dtype, n_filters, bias):
    rng = np.random.default_rng(9)
    X = rng.normal(size=shape).astype(dtype)
    W = rng.normal(size=(n_filters, shape[0], *f)).astype(dtype)
    b = rng.normal(size=n_filters).astype(dtype) if bias else None
    out_hw = _out_hw(shape, f, s, pad, d)
    col = kernels.im2col(X, f, s, pad, d, out_hw, bias_row=bias)
    W2 = W.reshape(n_filters, -1)
    expected = ((np.concatenate([W2, b[:, None]], axis=1) if bias else W2) @ col).reshape(
        n_filters, *out_hw, shape[3])
    Xp = reference._padded(X, pad)
    Zr = reference.conv_direct(Xp, W, b, s, d, np.empty_like(expected))
    Zc = compiled.conv_direct(Xp, W, b, s, d, np.empty_like(expected))
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(Zr, expected, **tol)
    np.testing.assert_allclose(Zc, Zr, **tol)   # the compiled sum may fuse w x + z (an FMA)
    for use in ("numba", "numpy"):
        before = kernels.in_use()
        kernels.use(use)
        try:
            Z = kernels.conv_direct(X, W, b, s, pad, d, out_hw)
        finally:
            kernels.use(before)
        assert Z.dtype == dtype and Z.flags.c_contiguous
        np.testing.assert_allclose(Z, Zr, **tol)
    # dW: each weight's sum of dZ times the pixels it multiplied, dZ @ col^T
    dZ = rng.normal(size=expected.shape).astype(dtype)
    dW = (dZ.reshape(n_filters, -1) @ col[:W2.shape[1]].T).reshape(W.shape)
    dWr = reference.conv_direct_weight_grad(Xp, dZ, s, d, np.empty_like(W))
    dWc = compiled.conv_direct_weight_grad(Xp, dZ, s, d, np.full_like(W, np.nan))
    tol["atol"] *= 10   # sums of up to H_out W_out m products
    np.testing.assert_allclose(dWr, dW, **tol)
    np.testing.assert_allclose(dWc, dW, **tol)
    np.testing.assert_allclose(kernels.conv_direct_weight_grad(X, dZ, W.shape, s, pad, d), dW, **tol)


def test_a_layer_convolves_directly_only_with_few_filters_of_its_inputs_dtype():
    X = np.zeros((1, 8, 8, 2), np.float32)
    few, many = (np.zeros((n, 1, 3, 3), np.float32) for n in (kernels.DIRECT_MAX_FILTERS,
                                                                kernels.DIRECT_MAX_FILTERS + 1))
    assert kernels.conv_direct_pays(few, X) and not kernels.conv_direct_pays(many, X)
    assert not kernels.conv_direct_pays(few.astype(np.float64), X)    # mixed dtypes: the GEMM
    assert not kernels.conv_direct_pays(few.astype(np.int64), X.astype(np.int64))


def test_max_pool_windows_of_more_than_255_pixels_keep_int32_positions(impl):
    X = np.random.default_rng(2).normal(size=(2, 17, 17, 3)).astype(np.float32)
    Z, arg = kernels.max_pool(X, (17, 17), (1, 1), ((0, 0), (0, 0)), (1, 1))
    assert arg.dtype == np.int32
    np.testing.assert_array_equal(Z[:, 0, 0], X.reshape(2, -1, 3).max(axis=1))
    np.testing.assert_array_equal(arg[:, 0, 0], X.reshape(2, -1, 3).argmax(axis=1))


@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_max_pool_of_windows_with_padding_and_minus_infinity_or_the_lowest_integer(m, dtype):
    # padding is the lowest value: a window whose pixels are all that value keeps its first
    # pixel, the padding, whose gradient is dropped (batch 1 takes a path of its own)
    low = -np.inf if dtype == np.float32 else np.iinfo(dtype).min
    X = np.full((2, 4, 5, m), low, dtype)
    X[1, 2:, 3:] = np.arange(2 * 2 * m).reshape(2, 2, m)
    X[0, 3, 4] = 7
    f, s, pad = (3, 3), (2, 2), ((1, 1), (1, 1))
    (Z, arg), (Zr, argr) = _both("max_pool", X, f, s, pad, (2, 3), np.uint8)
    np.testing.assert_array_equal(Z, Zr)
    np.testing.assert_array_equal(arg, argr)
    assert (arg[0, 0, 0] == 0).all() and (Z[0, 0, 0] == low).all()
    dZ = np.ones(Z.shape, dtype)
    np.testing.assert_array_equal(*_both("max_pool_backward", dZ, arg, X.shape, f, s, pad))


@pytest.mark.parametrize("layout", ["C", "F", "batch-last", "mixed", "strided", "0-d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_numpys_maximum_bit_for_bit_on_any_layout(impl, layout, dtype):
    """max(z, 0) into out: the bits of np.maximum(z, 0), NaN (either sign), -0.0, +-inf and
    subnormals included, whatever the layouts of z and out."""
    rng = np.random.default_rng(5)
    z = rng.normal(size=(5, 3, 4, 6)).astype(dtype)
    z.reshape(-1)[:8] = [np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf,
                         np.finfo(dtype).smallest_subnormal, -np.finfo(dtype).smallest_subnormal]
    out = np.empty_like(z)
    if layout == "F":
        z, out = np.asfortranarray(z), np.asfortranarray(out)
    if layout == "batch-last":
        z = kernels.from_batch_last(kernels.batch_last(z))
        out = kernels.from_batch_last(np.empty(kernels.batch_last(z).shape, dtype))
    if layout == "mixed":
        z = kernels.from_batch_last(kernels.batch_last(z))
    if layout == "strided":
        z, out = z[:, :, ::2], out[:, :, ::2]
    if layout == "0-d":
        z, out = z.reshape(-1)[1:2].reshape(()), np.empty((), dtype)
    expected = np.maximum(z, 0)
    before = out.ctypes.data
    result = kernels.relu(z, out)
    assert result is out and out.ctypes.data == before
    np.testing.assert_array_equal(out.view(f"u{out.itemsize}"), expected.view(f"u{out.itemsize}"))


def test_relu_kernel_leaves_integers_to_numpy(impl):
    z = np.array([[-3, 0, 4]], np.int64)
    np.testing.assert_array_equal(kernels.relu(z, np.empty_like(z)), [[0, 0, 4]])


@pytest.mark.parametrize("layout", ["dense", "batch-last", "mixed", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_on_any_layout(impl, layout, dtype):
    rng = np.random.default_rng(3)
    A = np.maximum(rng.normal(size=(5, 3, 4, 6)), 0).astype(dtype)
    A.reshape(-1)[:2] = [np.nan, 0.0]
    dA = rng.normal(size=A.shape).astype(dtype)
    dA.reshape(-1)[5] = np.inf                 # where A is 0 the gradient is 0, not NaN
    A.reshape(-1)[5] = 0.0
    if layout in ("batch-last", "mixed"):
        A = kernels.from_batch_last(kernels.batch_last(A))
    if layout == "batch-last":
        dA = kernels.from_batch_last(kernels.batch_last(dA))
    if layout == "strided":
        A, dA = A[:, :, ::2], dA[:, :, ::2]
    dZ = kernels.relu_backward(dA, A)
    np.testing.assert_array_equal(dZ, np.where(A > 0, dA, 0))
    assert dZ.dtype == dtype and dZ.reshape(-1)[5] == 0


@pytest.mark.parametrize("layouts", ["A batch-last, dA row-major", "A row-major, dA batch-last",
                                     "A batch-last, dA strided"])
def test_relu_backward_of_a_batch_in_two_layouts(impl, layouts):
    # a batch (m, n) whose gradient comes in another layout than the activation (copied
    # into A's layout for the compiled pass, or NumPy's masked copy): dZ is laid out as A,
    # NaN, -0.0 and inf as in np.where
    rng = np.random.default_rng(5)
    A = np.maximum(rng.normal(size=(70, 45)), 0).astype(np.float32)
    A[0, :3] = [np.nan, 0.0, -0.0]
    dA = rng.normal(size=(70, 90)).astype(np.float32)
    dA = dA[:, ::2] if "strided" in layouts else np.ascontiguousarray(dA[:, :45])
    dA[0, 1] = np.inf                           # where A is 0 the gradient is 0, not NaN
    A = np.asfortranarray(A) if layouts.startswith("A batch-last") else A
    dA = np.asfortranarray(dA) if layouts.endswith("dA batch-last") else dA
    dZ = kernels.relu_backward(dA, A)
    np.testing.assert_array_equal(dZ, np.where(A > 0, dA, 0))
    assert dZ.strides == A.strides and dZ[0, 1] == 0


def test_relu_backward_of_a_broadcast_gradient(impl):
    # a global average pool hands a broadcast gradient (zero strides) back to the ReLU of a
    # batch-last map; a concatenation after it, slices of that
    rng = np.random.default_rng(6)
    A = kernels.from_batch_last(np.maximum(rng.normal(size=(6, 5, 5, 4)), 0).astype(np.float32))
    dA = np.broadcast_to(rng.normal(size=(4, 6, 1, 1)).astype(np.float32), A.shape)
    for a, da in ((A, dA), (A[:, 2:], dA[:, 2:])):
        dZ = kernels.relu_backward(da, a)
        np.testing.assert_array_equal(dZ, np.where(a > 0, da, 0))
        assert dZ.strides == np.empty_like(a).strides


@pytest.mark.parametrize("layout", ["C", "F", "permuted", "mixed", "strided", "1-D"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_is_numpys_update_bit_for_bit_on_any_layout(impl, layout, dtype):
    """y += a x in place: the same bits as NumPy's y -= lr * x, on every layout (the fused
    pass where x and y are laid out alike, NumPy's otherwise)."""
    rng = np.random.default_rng(4)
    y, x = (rng.normal(size=(37, 300)).astype(dtype) for _ in range(2))
    if layout == "permuted":                    # both batch-last 4-D maps: one dense order
        y, x = (kernels.from_batch_last(a.reshape(3, 37, 10, 10)) for a in (y, x))
    if layout == "F":
        y, x = np.asfortranarray(y), np.asfortranarray(x)
    if layout == "mixed":
        y = np.asfortranarray(y)
    if layout == "strided":
        y, x = y[:, ::2], x[:, ::2]
    if layout == "1-D":
        y, x = y.reshape(-1), x.reshape(-1)
    lr = 0.1
    expected = y.copy()
    expected -= lr * x                          # the update as NumPy writes it
    before = y.ctypes.data, y.strides
    kernels.axpy(-lr, x, y)
    np.testing.assert_array_equal(y, expected)
    assert (y.ctypes.data, y.strides) == before


def _adam_arrays(layout, dtype, rng):
    """w, g and the moments v, s (s >= 0) of one shape, in the given layout."""
    w, g, v = (rng.normal(size=(37, 30)).astype(dtype) for _ in range(3))
    s = rng.random((37, 30)).astype(dtype)
    arrays = [w, g, v, s]
    if layout == "permuted":                    # batch-last 4-D maps: one dense order
        arrays = [kernels.from_batch_last(a.reshape(3, 37, 2, 5)) for a in arrays]
    if layout == "F":
        arrays = [np.asfortranarray(a) for a in arrays]
    if layout == "mixed":                       # a gradient of another layout than W's
        arrays[1] = np.asfortranarray(arrays[1])
    if layout == "strided":
        arrays = [a[:, ::2] for a in arrays]
    if layout == "1-D":
        arrays = [a.reshape(-1) for a in arrays]
    return arrays


@pytest.mark.parametrize("layout", ["C", "F", "permuted", "mixed", "strided", "1-D"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_is_numpys_update_bit_for_bit_on_any_layout(impl, layout, dtype, amsgrad):
    """Adam's update in place, five steps: the fused pass where the arrays are laid out
    alike, NumPy's passes otherwise (and for amsgrad), the same bits as the reference;
    the arrays stay where they were."""
    rng = np.random.default_rng(7)
    ours = _adam_arrays(layout, dtype, rng)
    theirs = [a.copy() for a in ours]
    s_max = [np.zeros_like(ours[3]) if amsgrad else None for _ in range(2)]
    before = [(a.ctypes.data, a.strides) for a in ours]
    for t in range(1, 6):
        args = (0.9, 0.999, 1e-3 / (1 - 0.9 ** t), 1 / (1 - 0.999 ** t), 1e-8)
        kernels.adam(*ours, *args, s_max[0])
        reference.adam(*theirs, *args, s_max[1])
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    assert [(a.ctypes.data, a.strides) for a in ours] == before


def test_adam_keeps_numpys_infinities_and_nans(impl):
    """A zero second moment with eps 0 divides by zero, a NaN or an infinite gradient
    spreads: the fused pass gives NumPy's inf and NaN, no error."""
    w = np.ones(6, np.float32)
    g = np.array([0, 1, np.nan, np.inf, -np.inf, 2], np.float32)
    v, s = np.zeros(6, np.float32), np.zeros(6, np.float32)
    w2, g2, v2, s2 = (a.copy() for a in (w, g, v, s))
    with np.errstate(all="ignore"):
        kernels.adam(w, g, v, s, 0.9, 0.999, 0.01, 1000.0, 0.0)
        reference.adam(w2, g2, v2, s2, 0.9, 0.999, 0.01, 1000.0, 0.0)
    for a, b in zip((w, v, s), (w2, v2, s2)):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(w[0]) and np.isnan(w[2]) and np.isfinite(w[1])


@pytest.mark.parametrize("kind", ["Adam", "Adam-wd", "Adam-amsgrad", "AdamW"])
def test_adam_optimizer_is_the_same_on_either_kernels(kind):
    """optim.Adam and AdamW take the same steps on the compiled kernels as on NumPy's."""
    options = {"Adam": {}, "Adam-wd": {"weight_decay": 0.1}, "Adam-amsgrad": {"amsgrad": True},
               "AdamW": {}}[kind]
    cls = optim.AdamW if kind == "AdamW" else optim.Adam
    rng = np.random.default_rng(8)
    W0, grads = rng.normal(size=(5, 7)).astype(np.float32), rng.normal(size=(4, 5, 7)).astype(np.float32)
    before, results = kernels.in_use(), []
    try:
        for name in ("numba", "numpy"):
            kernels.use(name)
            W = gw.tensor(W0.copy(), requires_grad=True)
            opt = cls([W], lr=0.01, **options)
            for g in grads:
                W.grad = g.copy()
                opt.step()
            results.append(W.numpy().copy())
    finally:
        kernels.use(before)
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_of_a_large_array_runs_on_numpys_blas_to_rounding(layout, dtype, monkeypatch):
    """Arrays of blas.MIN_SIZE numbers or more go to NumPy's own BLAS axpy, which fuses
    a x + y: NumPy's numbers to rounding. Smaller ones, and every array under use("numpy"),
    stay on the calling thread, bit for bit."""
    from gradwise.kernels import blas
    if not blas.find():
        pytest.skip("NumPy's BLAS here is not an ILP64 OpenBLAS with a known axpy")
    calls = []
    real = blas.find()[np.dtype(dtype)]
    monkeypatch.setitem(blas.find(), np.dtype(dtype), lambda *args: calls.append(args[0]) or real(*args))
    rng = np.random.default_rng(5)
    n = blas.MIN_SIZE // 512 + 1
    y, x = (rng.normal(size=(512, n)).astype(dtype) for _ in range(2))
    if layout == "F":
        y, x = np.asfortranarray(y), np.asfortranarray(x)
    expected = y - dtype(0.1) * x
    kernels.axpy(-0.1, x, y)
    assert calls == [y.size]
    np.testing.assert_allclose(y, expected, rtol=np.finfo(dtype).eps, atol=np.finfo(dtype).eps)
    small = y[:, :n - 2] if layout == "C" else y[:-1]     # just short of MIN_SIZE
    small = np.ascontiguousarray(small) if layout == "C" else np.asfortranarray(small)
    assert small.size < blas.MIN_SIZE
    kernels.axpy(-0.1, small, small.copy())
    assert calls == [y.size]


def test_without_a_blas_axpy_large_arrays_stay_on_the_calling_thread(monkeypatch):
    from gradwise.kernels import blas
    monkeypatch.setattr(blas, "_found", {})
    rng = np.random.default_rng(6)
    y, x = (rng.normal(size=blas.MIN_SIZE).astype(np.float32) for _ in range(2))
    expected = y.copy()
    expected -= np.float32(0.1) * x
    kernels.axpy(-0.1, x, y)
    np.testing.assert_array_equal(y, expected)


def test_layout_helpers():
    X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    Xb = kernels.batch_last(X)
    assert Xb.shape == (3, 4, 5, 2) and Xb.flags.c_contiguous and Xb[1, 2, 3, 1] == X[1, 1, 2, 3]
    view = kernels.from_batch_last(Xb)
    assert np.array_equal(view, X) and np.shares_memory(view, Xb)
    assert kernels.batch_last(view) is not None and np.shares_memory(kernels.batch_last(view), Xb)
    assert kernels.batch_last_matrix(view).shape == (3, 4 * 5 * 2)
    assert kernels.dense_order(X) == (0, 1, 2, 3)
    assert kernels.dense_order(view) == (1, 2, 3, 0)
    assert kernels.dense_order(X[:, ::2]) is None


def test_choosing_the_kernels_and_the_numpy_fallback(monkeypatch):
    before = kernels.in_use()
    try:
        assert kernels.use("numpy") == "numpy"
        assert kernels.use("numba") == "numba"
        with pytest.raises(ValueError, match="'auto', 'numba' or 'numpy'"):
            kernels.use("fast")
        # without numba: auto falls back to NumPy, asking for numba says why it cannot
        monkeypatch.setitem(sys.modules, "numba", None)
        monkeypatch.delitem(sys.modules, "gradwise.kernels.compiled")
        monkeypatch.delattr(kernels, "compiled")
        assert kernels.use("auto") == "numpy"
        with pytest.raises(ImportError):
            kernels.use("numba")
    finally:
        monkeypatch.undo()
        kernels.use(before)


@pytest.mark.parametrize("x_shape,f,s,p", [((1, 2, 7, 7), 3, 2, 1), ((3, 3, 8, 9), 2, 2, 0),
                                           ((2, 1, 9, 6), 3, 1, 0), ((2, 4, 5, 5), 2, 1, 1)])
def test_pooling_ops_on_each_implementation_match_torch(impl, x_shape, f, s, p):
    torch = pytest.importorskip("torch")
    X = np.random.default_rng(4).normal(size=x_shape)
    for ours, theirs in ((F.max_pool2d, torch.nn.functional.max_pool2d),
                         (F.avg_pool2d, torch.nn.functional.avg_pool2d)):
        x, tx = gw.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        y, ty = ours(x, f, s, p), theirs(tx, f, s, p)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        dY = np.random.default_rng(5).normal(size=y.shape)
        y.backward(dY)
        ty.backward(torch.tensor(dY))
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,s,p,d", [((1, 2, 7, 7), (3, 3, 3), 2, 1, 1),
                                                   ((3, 1, 9, 8), (2, 5, 5), 1, 2, 1),
                                                   ((2, 2, 9, 9), (3, 3, 2), 1, 0, 2)])
@pytest.mark.parametrize("direct", [True, False], ids=["direct", "columns"])
def test_conv_on_each_implementation_matches_torch_and_gradchecks(impl, x_shape, w_shape, s, p, d,
                                                                  direct, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(kernels, "DIRECT_MAX_FILTERS", 99 if direct else 0)
    from gradwise.check import gradcheck
    rng = np.random.default_rng(6)
    X = rng.normal(size=x_shape)
    W = rng.normal(size=(w_shape[0], x_shape[1], *w_shape[1:]))
    b = rng.normal(size=w_shape[0])
    x, w, bb = (gw.tensor(a, requires_grad=True) for a in (X, W, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    y = F.conv2d(x, w, bb, s, p, d)
    ty = torch.nn.functional.conv2d(tx, tw, tb, s, p, d)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    dY = rng.normal(size=y.shape)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    for g, tg in ((x, tx), (w, tw), (bb, tb)):
        np.testing.assert_allclose(g.grad, tg.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda a, k, c: F.conv2d(a, k, c, s, p, d), [X, W, b])
    assert gradcheck(lambda a: F.max_pool2d(F.relu(a), 2, 1, 1), [X])


def test_a_conv_layer_hands_the_next_layers_batch_last_memory_without_copies():
    X = gw.tensor(np.random.default_rng(7).normal(size=(4, 2, 12, 12)).astype(np.float32))
    conv = nn.Conv2d(2, 3, 3)
    Z = conv(X)
    assert kernels.dense_order(Z.data) == (1, 2, 3, 0)         # batch-last memory
    A = F.relu(Z)
    assert kernels.dense_order(A.data) == (1, 2, 3, 0)         # the activation keeps it
    P = F.max_pool2d(A, 2)
    assert kernels.dense_order(P.data) == (1, 2, 3, 0)
    assert np.shares_memory(kernels.batch_last(A.data), A.data)  # pooling reads it as is


_GROWING_ARRAYS = """
import resource, numpy as np
from gradwise import backend
a = np.ones(6_000_000, np.float32); del a            # 24 MB: the heap now holds that much
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(20):                                  # 8 to 23 MB, each larger than the last
    a = np.ones(2_000_000 + 200_000 * i, np.float32); del a
print(backend._kept_freed_memory, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_freed_memory_is_kept_for_the_next_step_without_page_faults(tmp_path):
    # Arrays freed and allocated again, each a little larger (as a training step's buffers
    # vary): with gradwise's malloc settings they reuse the heap's memory; glibc's defaults
    # map each from the OS again, one page fault per 4 KiB page.
    import os
    import subprocess
    runs = {}
    for setting in ("1", "0"):
        env = dict(os.environ, GRADWISE_KEEP_FREED_MEMORY=setting)
        out = subprocess.run([sys.executable, "-c", _GROWING_ARRAYS], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        runs[setting] = (out[0], int(out[1]))
    if runs["1"][0] != "True":
        pytest.skip("not glibc: malloc is left as it is")
    assert runs["0"][0] == "False"
    assert runs["1"][1] < 200 < 1000 < runs["0"][1], runs


def test_the_weight_gradient_of_a_small_layer_over_many_columns_is_summed_in_pieces(monkeypatch):
    torch = pytest.importorskip("torch")
    from gradwise.ops import conv as conv_ops
    monkeypatch.setattr(kernels, "DIRECT_MAX_FILTERS", 0)   # the columns' path, not the direct sum
    rng = np.random.default_rng(8)
    X, W, b = rng.normal(size=(40, 1, 28, 28)), rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2)
    dZ2, col = rng.normal(size=(2, 26 * 26 * 40)), rng.normal(size=(10, 26 * 26 * 40))
    assert 26 * 26 * 40 >= 4 * max(1024, conv_ops._CHUNK_BYTES // (8 * 12))  # the pieces' path
    np.testing.assert_allclose(conv_ops._weight_grad(dZ2, col), dZ2 @ col.T, rtol=1e-12, atol=1e-10)
    x, w, bb = (gw.tensor(a, requires_grad=True) for a in (X, W, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    dY = rng.normal(size=(40, 2, 26, 26))
    F.conv2d(x, w, bb).backward(dY)
    torch.nn.functional.conv2d(tx, tw, tb).backward(torch.tensor(dY))
    for g, tg in ((x, tx), (w, tw), (bb, tb)):
        np.testing.assert_allclose(g.grad, tg.grad.numpy(), rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("act", ["ReLU", "Tanh"])
def test_activations_keep_batch_last_memory_both_ways(impl, act):
    # an activation between a conv and a pooling layer hands on batch-last memory forward
    # and backward: no strided pass between mismatched layouts, no copy for the next kernel
    from gradwise.ops import activation
    rng = np.random.default_rng(9)
    Z = kernels.from_batch_last(rng.normal(size=(3, 6, 6, 4)).astype(np.float32))
    dA = kernels.from_batch_last(rng.normal(size=(3, 6, 6, 4)).astype(np.float32))
    op = getattr(activation, act)()
    A = op.forward(Z)
    assert kernels.dense_order(A) == (1, 2, 3, 0)
    dZ = op.backward(dA)
    assert kernels.dense_order(dZ) == (1, 2, 3, 0)
    expected = np.where(Z > 0, dA, 0) if act == "ReLU" else dA * (1 - np.tanh(Z) ** 2)
    np.testing.assert_allclose(dZ, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n_filters", [4, kernels.DIRECT_MAX_FILTERS + 2])   # direct; the columns' GEMM
def test_float16_runs_every_kernel_on_numpy_and_matches_float32(impl, n_filters):
    """numba cannot compile float16: conv, ReLU, both poolings, their backwards and SGD's
    update take the NumPy kernels for it instead of failing inside numba, and agree with the
    same model in float32 (on small integers, exact in both, but for the update's rounding)."""
    rng = np.random.default_rng(10)
    X = rng.integers(-2, 3, size=(3, 2, 10, 10))   # small integers: float16 holds every sum
    Wb = [rng.integers(-1, 2, size=shape) for shape in ((n_filters, 2, 3, 3), (n_filters,))]
    runs = {}
    for dtype in (np.float16, np.float32):
        model = nn.Sequential(nn.Conv2d(2, n_filters, 3, padding=1, dtype=dtype), nn.ReLU(),
                              nn.MaxPool2d(2), nn.AvgPool2d(2, padding=1))
        model.load_state_dict({"0.W": Wb[0].astype(dtype), "0.b": Wb[1].astype(dtype)})
        x = gw.tensor(X.astype(dtype), requires_grad=True)
        y = model(x)
        y.backward(np.ones(y.shape, dtype))
        W = model[0].W
        grads = [x.grad.copy(), W.grad.copy()]
        optim.SGD(model.parameters(), lr=0.1).step()
        assert y.dtype == dtype and W.dtype == dtype and W.grad.dtype == dtype
        runs[dtype] = [y.data, *grads, W.data]
    for half, single in zip(runs[np.float16], runs[np.float32], strict=True):
        np.testing.assert_allclose(half.astype(np.float32), single, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.complex64, np.bool_])
def test_max_pooling_refuses_what_has_no_order(dtype):
    with pytest.raises(TypeError, match=f"max_pool2d: expected real numbers, got dtype {np.dtype(dtype)}"):
        nn.MaxPool2d(2)(gw.tensor(np.ones((1, 1, 4, 4), dtype)))


@pytest.mark.parametrize("a_shape, b_shape", [
    ((7, 1), (1, 5)), ((1, 1), (1, 1)), ((3, 7, 1), (1, 5)), ((7, 1), (2, 1, 5)),
    ((2, 1, 4, 1), (3, 1, 6)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_matmul_of_inner_dimension_one_is_the_outer_product_gemm_gives(a_shape, b_shape, dtype):
    rng = np.random.default_rng(0)
    A = (rng.standard_normal(a_shape) * 4).astype(dtype)
    B = (rng.standard_normal(b_shape) * 4).astype(dtype)
    for a, b in [(A, B), (np.asfortranarray(A), np.asfortranarray(B)), (A, B[..., ::-1])]:
        Z = kernels.matmul(a, b)
        assert Z.shape == (a @ b).shape and Z.dtype == (a @ b).dtype
        np.testing.assert_array_equal(Z, a @ b)


@pytest.mark.parametrize("a_shape, b_shape", [((4, 1), (3, 5)), ((4, 1), (4, 5)), ((2, 4, 1), (3, 1, 5))])
def test_matmul_refuses_what_the_at_operator_refuses(a_shape, b_shape):
    A, B = np.ones(a_shape), np.ones(b_shape)
    with pytest.raises(ValueError):
        A @ B
    with pytest.raises(ValueError):   # (the op above checks the shapes and names them)
        kernels.matmul(A, B)


def test_matmul_of_other_shapes_is_the_at_operator():
    rng = np.random.default_rng(1)
    for a, b in [((5, 3), (3, 4)), ((3,), (3, 4)), ((5, 3), (3,)), ((2, 5, 2), (2, 4)), ((1, 3), (3, 1))]:
        A, B = rng.standard_normal(a), rng.standard_normal(b)
        np.testing.assert_array_equal(kernels.matmul(A, B), A @ B)
