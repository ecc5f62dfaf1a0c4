"""Behaviour of the functional API and ops at their edges: numerical stability at extreme
inputs, zero and shared gradients, and error messages at the public boundary."""
import contextlib
import re
import warnings

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn
from gradwise.ops import loss as loss_ops

FLOATS = [np.float32, np.float64]


@contextlib.contextmanager
def strict_floats():
    """Overflow, division by zero and invalid operations raise; so does any warning.

    Underflow stays allowed: e^-1000 flushing to 0 is the exact floating-point answer."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


def leaf(values, dtype=np.float64):
    return gw.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def assert_finite(*arrays):
    for a in arrays:
        a = a.data if isinstance(a, gw.Tensor) else a
        assert np.all(np.isfinite(a)), a


# ---- stability at extreme inputs ----------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_and_log_softmax_at_logits_of_1e4(dtype):
    z = leaf([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4 - 1]], dtype)
    with strict_floats():
        s = F.softmax(z)
        ls = F.log_softmax(z)
        (s * gw.tensor(np.arange(6.0).reshape(2, 3).astype(dtype))).sum().backward()
    assert s.dtype == dtype and ls.dtype == dtype
    assert_finite(s, ls, z.grad)
    e = np.exp([0.0, 0.0, -1.0])
    np.testing.assert_allclose(s.data, [[1, 0, 0], e / e.sum()], rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(ls.data, [[0, -1e4, -2e4], np.log(e / e.sum())], rtol=1e-6)
    np.testing.assert_allclose(s.data.sum(axis=1), 1.0, rtol=1e-6)
    # the saturated row has zero gradient; the other is the softmax Jacobian-vector product
    a = e / e.sum()
    v = np.array([3.0, 4.0, 5.0])
    np.testing.assert_allclose(z.grad, [[0, 0, 0], a * (v - a @ v)], rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_along_axis_0_at_large_logits(dtype):
    z = leaf([[-1e4, 5.0], [1e4, 5.0]], dtype)
    with strict_floats():
        ls = F.log_softmax(z, axis=0)
        ls.sum().backward()
    assert_finite(ls, z.grad)
    np.testing.assert_allclose(ls.data, [[-2e4, -np.log(2)], [0, -np.log(2)]], rtol=1e-6)
    np.testing.assert_allclose(z.grad, [[1, 0], [-1, 0]], atol=1e-6)  # 1 - 2 softmax


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_saturates_without_warnings(dtype):
    z = leaf([-1e30, -1000.0, 0.0, 1000.0, 1e30], dtype)
    with strict_floats():
        y = F.sigmoid(z)
        y.sum().backward()
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, 0.25, 0.0, 0.0])


def test_sigmoid_is_accurate_in_both_tails():
    z = np.array([-30.0, -5.0, 5.0, 30.0])
    y = F.sigmoid(gw.tensor(z)).data
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-z)), rtol=1e-14)
    assert y[0] > 0  # e^-30 / (1 + e^-30), not 1 - 1


@pytest.mark.parametrize("dtype", FLOATS)
def test_softplus_is_stable(dtype):
    z = leaf([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype)
    with strict_floats():
        y = F.softplus(z)
        y.sum().backward()
    assert y.dtype == dtype
    assert_finite(y, z.grad)
    expected = [0.0, np.log1p(np.exp(-30.0)), np.log(2.0), 30.0, 1000.0]
    np.testing.assert_allclose(y.data, expected, rtol=1e-6, atol=0)
    assert y.data[1] > 0  # log1p keeps e^-30, log(1 + e^-30) would give 0
    e30 = np.exp(-30.0)
    sigmoid = [0.0, e30 / (1 + e30), 0.5, 1 / (1 + e30), 1.0]
    np.testing.assert_allclose(z.grad, sigmoid, rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_at_extreme_logits(dtype):
    z = leaf([-1000.0, 1000.0, 1000.0, -1000.0], dtype)
    y = np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    with strict_floats():
        L = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        L.sum().backward()
    np.testing.assert_allclose(L.data, [0, 0, 1000, 1000], atol=1e-6)
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_cross_entropy_on_exact_0_and_1_stays_finite(dtype):
    A = leaf([0.0, 1.0, 0.0, 1.0], dtype)
    Y = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    with strict_floats():
        L = F.binary_cross_entropy(A, Y, reduction="none")
        L.sum().backward()
        mean = F.binary_cross_entropy(gw.tensor(A.data), Y)
    assert L.dtype == dtype
    assert_finite(L, A.grad, mean)
    assert np.all(L.data[:2] < 1e-6)                  # right and certain: ~0
    assert np.all((L.data[2:] > 15) & (L.data[2:] < 17))  # wrong and certain: -log(eps) ~ 16.1
    assert np.all(A.grad[2:] * np.array([1, -1]) < 0)  # pushes the prediction toward the label


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_at_huge_logits(dtype):
    z = leaf([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], dtype)
    with strict_floats():
        L = F.cross_entropy(z, np.array([1, 2]), reduction="none")
        L.sum().backward()
    assert_finite(L, z.grad)
    np.testing.assert_allclose(L.data, [2e4, np.log(3)], rtol=1e-6)
    np.testing.assert_allclose(z.grad, [[1, -1, 0], [1 / 3, 1 / 3, -2 / 3]], rtol=1e-6, atol=1e-7)


# ---- gradients with special structure ------------------------------------------------------
def test_step_has_zero_gradient():
    z = leaf([-1.0, 0.0, 2.0, 1e-9])
    w = leaf([5.0, 6.0, 7.0, 8.0])
    A = F.step(z)
    np.testing.assert_array_equal(A.data, [0.0, 0.0, 1.0, 1.0])  # strictly z > 0
    (A * w).sum().backward()
    assert z.grad is not None
    np.testing.assert_array_equal(z.grad, np.zeros(4))
    np.testing.assert_array_equal(w.grad, A.data)


def test_indexing_backward_accumulates_repeated_integer_indices():
    x = leaf(np.arange(5.0))
    x[[0, 0, 3, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 0, 1, 0])

    x = leaf(np.arange(5.0))
    y = x[np.array([1, -4, 2, 1])]  # -4 is 1 again
    y.backward(np.array([1.0, 10.0, 100.0, 1000.0]))
    np.testing.assert_array_equal(x.grad, [0, 1011, 100, 0, 0])


def test_indexing_backward_with_repeats_in_two_dimensions():
    x = leaf(np.zeros((3, 4)))
    x[np.array([1, 1, 2]), np.array([2, 2, 0])].sum().backward()
    expected = np.zeros((3, 4))
    expected[1, 2], expected[2, 0] = 2, 1
    np.testing.assert_array_equal(x.grad, expected)

    x = leaf(np.zeros((2, 3)))
    x[:, [0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 0, 1], [2, 0, 1]])


def test_indexing_backward_with_tensor_index_and_mask():
    x = leaf(np.arange(6.0).reshape(2, 3))
    x[gw.tensor(np.array([1, 1]))].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [2, 2, 2]])

    x = leaf(np.arange(6.0).reshape(2, 3))
    m = x.data > 2
    y = x[m]
    np.testing.assert_array_equal(y.data, [3, 4, 5])
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 2, 3]])


def test_ties_share_the_gradient_as_pytorch():
    a, b = leaf([1.0, 2.0, 5.0]), leaf([1.0, 3.0, 4.0])
    gw.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0, 0.0])

    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])


def test_gradient_at_kinks_follows_pytorch():
    x = leaf([0.0, 0.0])
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])

    x = leaf([0.0, 1.0])
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])

    x = leaf([-1.0, -0.5, 0.5, 1.0])
    x.clip(-0.5, 0.5).sum().backward()  # the bounds are inside: inclusive
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 0.0])


# ---- errors at the public boundary -----------------------------------------------------
@pytest.fixture
def no_cross_entropy_compute(monkeypatch):
    """Fail the test if an op's forward runs: validation must come first."""
    def boom(self, *args):
        raise AssertionError(f"{type(self).__name__}.forward ran before the labels were checked")
    monkeypatch.setattr(loss_ops.CrossEntropy, "forward", boom)
    monkeypatch.setattr(loss_ops.NLLLoss, "forward", boom)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("labels, bad", [([0, 3, 1], 3), ([-1, 0, 2], -1), ([7, 9, 0], 7)])
def test_labels_out_of_range_raise_before_computing(no_cross_entropy_compute, fn, labels, bad):
    z = leaf(np.zeros((3, 3)))
    with pytest.raises(ValueError) as info:
        fn(z, np.array(labels))
    msg = str(info.value)
    assert f"label {bad}" in msg
    assert "3 classes" in msg


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_label_dtype_and_shape_are_checked(no_cross_entropy_compute, fn):
    z = leaf(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="integer labels"):
        fn(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        fn(z, np.array([0, 1]))


def test_cross_entropy_probability_target_shape_is_checked():
    with pytest.raises(ValueError, match=re.escape("(3, 5)") + ".*" + re.escape("(3, 4)")):
        F.cross_entropy(leaf(np.zeros((3, 4))), np.full((3, 5), 0.2))


def _both_shapes(s1, s2):
    return re.compile(f"(?s)(?=.*{re.escape(str(s1))})(?=.*{re.escape(str(s2))})")


@pytest.mark.parametrize("make, s1, s2", [
    (lambda: F.linear(leaf(np.zeros((4, 3))), leaf(np.zeros((2, 5)))), (4, 3), (2, 5)),
    (lambda: F.linear(leaf(np.zeros(3)), leaf(np.zeros((2, 5)))), (3,), (2, 5)),
    (lambda: leaf(np.zeros((2, 3))) @ leaf(np.zeros((4, 5))), (2, 3), (4, 5)),
    (lambda: gw.matmul(leaf(np.zeros(3)), leaf(np.zeros(4))), (3,), (4,)),
    (lambda: leaf(np.zeros((5, 2, 3))) @ leaf(np.zeros((2, 3))), (5, 2, 3), (2, 3)),
    (lambda: leaf(np.zeros((2, 3))) + leaf(np.zeros(4)), (2, 3), (4,)),
    (lambda: leaf(np.zeros((2, 3))) * leaf(np.zeros((3, 2))), (2, 3), (3, 2)),
    (lambda: leaf(np.zeros((2, 3))) - np.zeros((2, 1, 2)), (2, 3), (2, 1, 2)),
    (lambda: leaf(np.zeros(3)) / leaf(np.zeros(2)), (3,), (2,)),
    (lambda: gw.maximum(leaf(np.zeros(3)), leaf(np.zeros(2))), (3,), (2,)),
    (lambda: gw.broadcast_to(leaf(np.zeros((2, 3))), (4, 3)), (2, 3), (4, 3)),
    (lambda: F.mse_loss(leaf(np.zeros((2, 3))), np.zeros((3, 2))), (2, 3), (3, 2)),
    (lambda: F.binary_cross_entropy(leaf(np.full(3, 0.5)), np.zeros(4)), (3,), (4,)),
    (lambda: F.binary_cross_entropy_with_logits(leaf(np.zeros((2, 2))), np.zeros(4)), (2, 2), (4,)),
])
def test_shape_mismatch_names_both_shapes(make, s1, s2):
    with pytest.raises(ValueError, match=_both_shapes(s1, s2)):
        make()


def test_linear_bias_and_weight_rank_are_checked():
    X, W = leaf(np.zeros((4, 3))), leaf(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\), got \(3,\)"):
        F.linear(X, W, leaf(np.zeros(3)))
    with pytest.raises(ValueError, match=r"2-D.*\(2, 3, 1\)"):
        F.linear(X, leaf(np.zeros((2, 3, 1))))


@pytest.mark.parametrize("fn, args", [
    (F.cross_entropy, (np.zeros((2, 3)), np.array([0, 1]))),
    (F.nll_loss, (np.zeros((2, 3)), np.array([0, 1]))),
    (F.binary_cross_entropy, (np.full((2, 3), 0.5), np.zeros((2, 3)))),
    (F.binary_cross_entropy_with_logits, (np.zeros((2, 3)), np.zeros((2, 3)))),
    (F.mse_loss, (np.zeros((2, 3)), np.zeros((2, 3)))),
])
@pytest.mark.parametrize("reduction", ["avg", "Mean", None])
def test_bad_reduction_names_raise(fn, args, reduction):
    x, target = args
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\)") as info:
        fn(leaf(x), target, reduction=reduction)
    assert repr(reduction) in str(info.value)


@pytest.mark.parametrize("fn, args", [
    (F.cross_entropy, (np.zeros((2, 3)), np.array([0, 1]))),
    (F.nll_loss, (np.zeros((2, 3)), np.array([0, 1]))),
    (F.binary_cross_entropy, (np.full((2, 3), 0.5), np.zeros((2, 3)))),
    (F.binary_cross_entropy_with_logits, (np.zeros((2, 3)), np.zeros((2, 3)))),
    (F.mse_loss, (np.zeros((2, 3)), np.ones((2, 3)))),
])
def test_reductions_relate_as_mean_sum_none(fn, args):
    x, target = args
    none = fn(leaf(x), target, reduction="none").data
    assert none.shape in {(2,), (2, 3)}
    np.testing.assert_allclose(fn(leaf(x), target, reduction="sum").data, none.sum())
    np.testing.assert_allclose(fn(leaf(x), target, reduction="mean").data, none.mean())


def test_concatenate_errors():
    a, b = leaf(np.zeros((2, 3))), leaf(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=_both_shapes((2, 3), (2, 4))) as info:
        gw.concatenate([a, b], axis=0)
    assert "axis 0" in str(info.value)
    gw.concatenate([a, b], axis=1)  # fine along the axis that differs
    with pytest.raises(ValueError, match=_both_shapes((2, 3), (2, 3, 1))):
        gw.concatenate([a, leaf(np.zeros((2, 3, 1)))])
    with pytest.raises(ValueError, match="non-empty"):
        gw.concatenate([])


def test_stack_errors():
    with pytest.raises(ValueError, match=_both_shapes((2, 3), (3, 2))) as info:
        gw.stack([leaf(np.zeros((2, 3))), leaf(np.zeros((3, 2)))])
    assert "same shape" in str(info.value)
    with pytest.raises(ValueError, match="non-empty"):
        gw.stack([])


def test_concatenate_and_stack_split_the_gradient():
    a, b = leaf(np.ones((2, 1))), leaf(np.ones((2, 2)))
    gw.cat([a, b], dim=1).backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(a.grad, [[0], [3]])
    np.testing.assert_array_equal(b.grad, [[1, 2], [4, 5]])
    a, b = leaf(np.ones(2)), leaf(np.ones(2))
    gw.stack([a, b], axis=1).backward(np.arange(4.0).reshape(2, 2))
    np.testing.assert_array_equal(a.grad, [0, 2])
    np.testing.assert_array_equal(b.grad, [1, 3])


def test_reduction_axis_out_of_range_names_the_shape():
    x = leaf(np.zeros((2, 3)))
    for fn in (gw.sum, gw.mean, gw.max, gw.min, gw.var):
        with pytest.raises(ValueError, match=r"axis 2 is out of range.*\(2, 3\)"):
            fn(x, axis=2)
    with pytest.raises(ValueError, match=r"axis -3"):
        x.sum(dim=(0, -3))


def test_var_without_degrees_of_freedom_raises():
    with pytest.raises(ValueError, match="degrees of freedom"):
        leaf(np.zeros((3, 1))).var(axis=1)
    np.testing.assert_array_equal(leaf(np.zeros((3, 1))).var(axis=1, correction=0).data, 0)


def test_var_has_one_spelling_for_the_correction():
    x = leaf(np.arange(6.0).reshape(2, 3))
    for other in (dict(unbiased=False), dict(ddof=0)):
        with pytest.raises(TypeError, match="correction="):
            x.var(axis=1, **other)


def test_pad_rejects_negative_widths_and_permute_bad_axes():
    with pytest.raises(ValueError, match="non-negative"):
        gw.pad(leaf(np.zeros((2, 2))), ((1, -1), (0, 0)))
    with pytest.raises(ValueError, match="not a permutation"):
        leaf(np.zeros((2, 3))).permute(0, 0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        leaf(np.zeros((2, 3))).reshape(4, 2)


# ---- integer and boolean inputs: float-valued ops promote, as PyTorch --------------------
FLOAT_VALUED = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "softmax": F.softmax,
    "softmax-axis0": lambda x: F.softmax(x, axis=0), "log_softmax": F.log_softmax,
    "softplus": F.softplus, "leaky_relu": F.leaky_relu, "exp": gw.exp, "log": gw.log,
    "sqrt": gw.sqrt, "sin": gw.sin, "cos": gw.cos, "mean": gw.mean,
    "mean-axis": lambda x: x.mean(axis=1), "var": gw.var,
    "div-scalar": lambda x: x / 2, "rdiv-scalar": lambda x: 1 / x, "div-tensor": lambda x: x / (x + 1),
    "avg_pool2d": lambda x: F.avg_pool2d(x.reshape(1, 1, 2, 3), (2, 1)),
}


@pytest.mark.parametrize("default", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FLOAT_VALUED))
def test_float_valued_ops_promote_integer_input_to_the_default_dtype(name, default):
    fn = FLOAT_VALUED[name]
    ints = [[1, 2, 3], [4, 5, 7]]
    gw.set_default_dtype(default)
    try:
        y = fn(gw.tensor(ints))
        reference = fn(gw.tensor(np.array(ints, dtype=np.float64))).data
    finally:
        gw.set_default_dtype(np.float32)
    assert y.dtype == default, f"{name} on int64 gave {y.dtype}"
    np.testing.assert_allclose(y.data, reference, rtol=1e-6)
    assert not y.requires_grad


@pytest.mark.parametrize("name", sorted(FLOAT_VALUED))
def test_float_valued_ops_promote_boolean_input(name):
    fn = FLOAT_VALUED[name]
    bools = np.array([[True, False, True], [True, True, True]])
    if name in ("log", "rdiv-scalar"):
        bools[:] = True  # keep away from log(0) and 1/0
    y = fn(gw.tensor(bools))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, fn(gw.tensor(bools.astype(np.float64))).data, rtol=1e-6)


def test_sigmoid_of_integers_is_not_truncated():
    np.testing.assert_allclose(F.sigmoid(gw.tensor([0, 2])).data, [0.5, 0.880797], rtol=1e-6)


@pytest.mark.parametrize("fn", [F.relu, F.step, gw.abs, lambda x: -x, lambda x: x + 1, lambda x: x * 2,
                                lambda x: x.sum(), lambda x: x.max(), lambda x: x.clip(0, 2),
                                lambda x: x.reshape(-1), lambda x: x[0]])
def test_integer_valued_ops_keep_integers_as_pytorch(fn):
    # torch.relu, abs, +, *, sum, max, clamp on an int64 tensor stay int64
    y = fn(gw.tensor([[1, -2], [3, 0]]))
    assert y.dtype == np.int64


def test_dropout_of_integers_is_float_valued():
    y = F.dropout(gw.tensor([1, 2, 3]), p=0.5, mask=np.array([1, 0, 1]))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [2.0, 0.0, 6.0])


# ---- keyword typos are errors, not silently ignored -----------------------------------------
_X = gw.tensor(np.arange(6.0).reshape(2, 3))
KEYWORD_TYPOS = {
    "softmax": lambda: F.softmax(_X, dimm=0),
    "log_softmax": lambda: F.log_softmax(_X, dimm=0),
    "Tensor.softmax": lambda: _X.softmax(dimm=0),
    "sum": lambda: gw.sum(_X, dimm=0),
    "Tensor.sum": lambda: _X.sum(keepdimm=True),
    "mean": lambda: _X.mean(dimm=0),
    "max": lambda: _X.max(dimm=0),
    "min": lambda: gw.min(_X, dimm=0),
    "var": lambda: _X.var(unbiassed=False),
    "concatenate": lambda: gw.concatenate([_X, _X], dimm=1),
    "stack": lambda: gw.stack([_X, _X], dimm=1),
    "argmax": lambda: _X.argmax(dimm=1),
    "argmin": lambda: _X.argmin(dimm=1),
    "Softmax": lambda: nn.Softmax(dimm=0),
    "LogSoftmax": lambda: nn.LogSoftmax(dimm=0),
}


@pytest.mark.parametrize("name", sorted(KEYWORD_TYPOS))
def test_an_unknown_keyword_raises_naming_the_function_and_the_keyword(name):
    short = name.split(".")[-1]
    with pytest.raises(TypeError, match=rf"{short}\(\) got an unexpected keyword argument '\w+'"):
        KEYWORD_TYPOS[name]()


def test_pytorch_keyword_spellings_still_work():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    t = gw.tensor(x)
    np.testing.assert_allclose(F.softmax(t, dim=0).data.sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(t.argmax(dim=1).data, [0, 1])
    np.testing.assert_array_equal(gw.argmin(t, dim=0, keepdim=True).data, [[1, 0, 0]])
    assert t.argmax().item() == 4
    assert gw.cat([t, t], dim=1).shape == (2, 6) and gw.stack([t, t], dim=1).shape == (2, 2, 3)
    assert t.sum(dim=1, keepdim=True).shape == (2, 1)
    assert nn.Softmax(dim=0).axis == 0


# ---- sin, cos and the activation methods ------------------------------------------------------
def test_sin_and_cos_values_and_gradients():
    x = gw.tensor(np.array([-1.0, 0.0, 0.5, 3.0]), requires_grad=True)
    for fn, f, df in [(gw.sin, np.sin, np.cos), (gw.cos, np.cos, lambda v: -np.sin(v)),
                      (lambda t: t.sin(), np.sin, np.cos), (lambda t: t.cos(), np.cos, lambda v: -np.sin(v))]:
        x.grad = None
        y = fn(x)
        np.testing.assert_allclose(y.data, f(x.data))
        y.sum().backward()
        np.testing.assert_allclose(x.grad, df(x.data))
    assert gw.sin(gw.tensor([1.0])).dtype == np.float32


@pytest.mark.parametrize("method, fn", [
    ("relu", F.relu), ("sigmoid", F.sigmoid), ("tanh", F.tanh), ("softmax", F.softmax),
    ("log_softmax", F.log_softmax),
])
def test_activation_methods_are_the_functional_ones(method, fn):
    z = gw.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    y = getattr(z, method)()
    np.testing.assert_array_equal(y.data, fn(z).data)
    assert type(y.creator) is type(fn(z).creator)
    y.sum().backward()
    assert z.grad is not None


def test_softmax_method_takes_dim_as_pytorch():
    z = gw.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(z.softmax(0).data.sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(z.softmax(dim=0).data, F.softmax(z, axis=0).data)
    np.testing.assert_allclose(z.log_softmax(dim=1).data, F.log_softmax(z, dim=1).data)


# ---- one_hot ------------------------------------------------------------------------------------
def test_one_hot_as_pytorch():
    Y = F.one_hot(gw.tensor([0, 2, 1, 2]), 3)
    assert Y.dtype == np.int64 and not Y.requires_grad
    np.testing.assert_array_equal(Y.data, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert F.one_hot(np.array([1, 4])).shape == (2, 5)               # num_classes=-1: max + 1
    assert F.one_hot([[0, 1], [1, 1]], num_classes=2).shape == (2, 2, 2)
    assert F.one_hot(np.array(2, dtype=np.uint8), 4).data.tolist() == [0, 0, 1, 0]
    assert F.one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)
    Yf = F.one_hot([1, 0], 2, dtype=np.float32)
    assert Yf.dtype == np.float32 and Yf.data.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    y = np.random.default_rng(0).integers(0, 7, (4, 5))
    np.testing.assert_array_equal(F.one_hot(y, 7).data, torch.nn.functional.one_hot(torch.from_numpy(y), 7).numpy())


@pytest.mark.parametrize("labels, C, err, match", [
    ([0, 3], 3, ValueError, r"one_hot: label 3 is outside \[0, 3\) for 3 classes"),
    ([[0, -1]], 3, ValueError, r"one_hot: label -1 is outside \[0, 3\)"),
    ([0, -2], -1, ValueError, r"one_hot: label -2 is outside"),
    ([0.0, 1.0], 2, TypeError, r"one_hot: integer labels expected, got dtype float"),
    ([0, 1], 0, ValueError, r"one_hot: num_classes must be a positive integer or -1, got 0"),
    (np.array([], dtype=np.int64), -1, ValueError, r"one_hot: cannot infer num_classes"),
])
def test_one_hot_errors(labels, C, err, match):
    with pytest.raises(err, match=match):
        F.one_hot(labels, C)


# ---- convolution by hand: 'same' padding of even kernels, im2col / col2im -----------------------
def _correlate(Xp, W, b=None, stride=(1, 1), dilation=(1, 1)):
    """Z[n, f, i, j] = sum over c, p, q of Xp[n, c, i s + p d, j s + q d] W[f, c, p, q] (+ b[f]):
    the cross-correlation every framework calls convolution, one output at a time."""
    m, C, H, Wd = Xp.shape
    F_, _, fh, fw = W.shape
    Ho = (H - dilation[0] * (fh - 1) - 1) // stride[0] + 1
    Wo = (Wd - dilation[1] * (fw - 1) - 1) // stride[1] + 1
    Z = np.zeros((m, F_, Ho, Wo))
    for n in range(m):
        for f in range(F_):
            for i in range(Ho):
                for j in range(Wo):
                    r, c = i * stride[0], j * stride[1]
                    window = Xp[n, :, r:r + dilation[0] * (fh - 1) + 1:dilation[0],
                                c:c + dilation[1] * (fw - 1) + 1:dilation[1]]
                    Z[n, f, i, j] = (window * W[f]).sum() + (0 if b is None else b[f])
    return Z


@pytest.mark.parametrize("kernel, dilation, pads", [
    ((2, 2), 1, ((0, 1), (0, 1))),      # Keras/TF: total k - 1, the extra at the bottom / right
    ((4, 3), 1, ((1, 2), (1, 1))),
    ((2, 4), 1, ((0, 1), (1, 2))),
    ((2, 2), 2, ((1, 1), (1, 1))),      # dilated: total d (k - 1) = 2, even
])
def test_same_padding_of_even_kernels_is_keras(kernel, dilation, pads):
    rng = np.random.default_rng(0)
    X, W, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, *kernel)), rng.standard_normal(4)
    expected = _correlate(np.pad(X, ((0, 0), (0, 0)) + pads), W, b, dilation=(dilation,) * 2)
    assert expected.shape == (2, 4, 5, 6)
    Z = F.conv2d(gw.tensor(X), gw.tensor(W), gw.tensor(b), padding="same", dilation=dilation)
    np.testing.assert_allclose(Z.data, expected, rtol=1e-10)
    layer = nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation, dtype=np.float64)
    layer.W.data[...], layer.b.data[...] = W, b
    np.testing.assert_allclose(layer(gw.tensor(X)).data, expected, rtol=1e-10)


def _im2col_loop(X, fh, fw, stride=(1, 1), pad=(0, 0)):
    """The book's layout by hand: one row per output position (n, i, j), in that order, holding
    the window's C fh fw numbers in (c, p, q) order."""
    Xp = np.pad(X, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    N, C, H, W = Xp.shape
    Ho, Wo = (H - fh) // stride[0] + 1, (W - fw) // stride[1] + 1
    rows = []
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                r, c = i * stride[0], j * stride[1]
                rows.append(Xp[n, :, r:r + fh, c:c + fw].reshape(-1))
    return np.array(rows)


def _col2im_loop(col, shape, fh, fw, stride=(1, 1), pad=(0, 0)):
    N, C, H, W = shape
    Xp = np.zeros((N, C, H + 2 * pad[0], W + 2 * pad[1]))
    Ho, Wo = (Xp.shape[2] - fh) // stride[0] + 1, (Xp.shape[3] - fw) // stride[1] + 1
    k = 0
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                r, c = i * stride[0], j * stride[1]
                Xp[n, :, r:r + fh, c:c + fw] += col[k].reshape(C, fh, fw)
                k += 1
    return Xp[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W]


IM2COL_CASES = [
    # (N, C, H, W), fh, fw, stride, pad
    ((2, 3, 5, 5), 3, 3, 1, 0),
    ((2, 3, 7, 6), 3, 3, 2, 1),
    ((1, 2, 6, 7), 2, 3, (2, 1), (1, 0)),
    ((3, 1, 4, 4), 1, 1, 1, 0),
    ((2, 2, 5, 5), 5, 5, 1, 2),
    ((1, 2, 8, 8), 3, 3, 3, 1),      # stride past the kernel: gaps between windows
]


def _pair2(v):
    return (v, v) if isinstance(v, int) else v


@pytest.mark.parametrize("shape, fh, fw, stride, pad", IM2COL_CASES)
def test_im2col_is_the_books_layout(shape, fh, fw, stride, pad):
    X = np.random.default_rng(0).standard_normal(shape)
    col = F.im2col(X, fh, fw, stride, pad)
    expected = _im2col_loop(X, fh, fw, _pair2(stride), _pair2(pad))
    assert col.shape == expected.shape == (len(expected), shape[1] * fh * fw)
    np.testing.assert_array_equal(col, expected)


@pytest.mark.parametrize("shape, fh, fw, stride, pad", IM2COL_CASES)
def test_col2im_sums_the_windows_back_and_is_the_adjoint_of_im2col(shape, fh, fw, stride, pad):
    rng = np.random.default_rng(1)
    X = rng.standard_normal(shape)
    c = rng.standard_normal(F.im2col(X, fh, fw, stride, pad).shape)
    back = F.col2im(c, shape, fh, fw, stride, pad)
    assert back.shape == shape
    np.testing.assert_allclose(back, _col2im_loop(c, shape, fh, fw, _pair2(stride), _pair2(pad)),
                               rtol=1e-12, atol=1e-12)
    # <im2col(X), c> = <X, col2im(c)>: col2im is im2col's transpose
    assert np.sum(F.im2col(X, fh, fw, stride, pad) * c) == pytest.approx(np.sum(X * back), rel=1e-12)


def test_convolution_as_the_book_writes_it_with_im2col():
    rng = np.random.default_rng(2)
    X, W, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    N, Ho, Wo = 2, 4, 4                                           # stride 2, pad 1
    col = F.im2col(X, 3, 3, stride=2, pad=1)                      # (N Ho Wo, C fh fw)
    out = (col @ W.reshape(4, -1).T + b).reshape(N, Ho, Wo, -1).transpose(0, 3, 1, 2)
    Z = F.conv2d(gw.tensor(X), gw.tensor(W), gw.tensor(b), stride=2, padding=1)
    np.testing.assert_allclose(out, Z.data, rtol=1e-10)
    assert F.im2col(gw.tensor(X.astype(np.float32)), 3, 3).dtype == np.float32
    X1 = np.ones((1, 1, 3, 3))
    col = F.im2col(X1, 1, 1)           # a 1x1 window: the columns are X itself, copied
    col[0] = 5.0
    assert X1[0, 0, 0, 0] == 1.0


def test_im2col_and_col2im_errors_name_the_shapes():
    X = np.zeros((2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"im2col: expected a batch of images \(N, C, H, W\), got shape \(3, 4, 4\)"):
        F.im2col(X[0], 3, 3)
    with pytest.raises(ValueError, match=r"im2col: a 5x5 window .* does not fit an input of 4x4"):
        F.im2col(X, 5, 5)
    with pytest.raises(ValueError,
                       match=r"col2im: col must have shape \(8, 27\) for input \(2, 3, 4, 4\).*got \(8, 26\)"):
        F.col2im(np.zeros((8, 26)), X.shape, 3, 3)
