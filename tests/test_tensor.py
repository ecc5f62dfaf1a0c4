"""Tensor construction, dtypes, attributes, creation helpers and the seeded generator."""
import numpy as np
import pytest

import gradwise as gw


def test_float32_by_default_and_dtype_rules():
    assert gw.tensor([1.0, 2.0]).dtype == np.float32
    assert gw.tensor(1.5).dtype == np.float32
    assert gw.tensor([1, 2]).dtype == np.int64
    assert gw.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64  # arrays keep theirs
    assert gw.tensor([1, 2], dtype=np.float32).dtype == np.float32
    for make in (gw.zeros, gw.ones, gw.randn, gw.rand):
        assert make(2, 3).dtype == np.float32
    assert gw.full((2,), 7.0).dtype == np.float32
    assert gw.arange(5).dtype == np.int64 and gw.arange(0.0, 1.0, 0.5).dtype == np.float32


def test_attributes():
    t = gw.tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.T.shape == (3, 2)
    assert gw.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    assert isinstance(t.numpy(), np.ndarray)


def test_tensor_copies_its_input():
    a = np.zeros(3, dtype=np.float32)
    t = gw.tensor(a)
    a[0] = 1
    assert t.data[0] == 0


def test_creation_helpers_shapes():
    assert gw.zeros(2, 3).shape == (2, 3)
    assert gw.ones((4,)).shape == (4,)
    assert gw.full((2, 2), 3.0).data.sum() == 12
    z = gw.randn(3, 2)
    assert gw.zeros_like(z).shape == (3, 2) and gw.ones_like(z).data.sum() == 6
    np.testing.assert_array_equal(gw.arange(1, 7, 2).data, [1, 3, 5])
    with pytest.raises(ValueError, match="invalid shape"):
        gw.zeros(-1, 2)


def test_requires_grad_only_for_floats():
    with pytest.raises(TypeError, match="floating"):
        gw.tensor([1, 2], requires_grad=True)
    t = gw.tensor([1.0]).requires_grad_()
    assert t.requires_grad and t.is_leaf


def test_manual_seed_reproduces_all_draws():
    gw.manual_seed(123)
    a, b = gw.randn(3, 4).data, gw.rand(5).data
    gw.manual_seed(123)
    np.testing.assert_array_equal(gw.randn(3, 4).data, a)
    np.testing.assert_array_equal(gw.rand(5).data, b)
    gw.manual_seed(124)
    assert not np.array_equal(gw.randn(3, 4).data, a)


def test_rng_state_round_trip():
    gw.manual_seed(7)
    state = gw.get_rng_state()
    a = gw.randn(4).data
    gw.set_rng_state(state)
    np.testing.assert_array_equal(gw.randn(4).data, a)


def test_comparisons_are_not_differentiable():
    x = gw.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == bool and not m.requires_grad
    np.testing.assert_array_equal(m.data, [False, True, True])
    np.testing.assert_array_equal((x == x).data, [True] * 3)
    assert hash(x) == id(x) or isinstance(hash(x), int)


def test_scalar_operands_keep_the_tensor_dtype():
    x = gw.tensor([1.0, 2.0])
    for y in (x + 1, 2 * x, x / 3, 1 - x, x ** 2, 2.0 ** x):
        assert y.dtype == np.float32


def test_repr():
    x = gw.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<Mul>" in repr(x * 2)


def test_setting_requires_grad_on_an_integer_tensor_is_refused():
    t = gw.tensor([1, 2])
    with pytest.raises(TypeError, match="floating.*int64"):
        t.requires_grad = True
    assert not t.requires_grad
    with pytest.raises(TypeError, match="floating"):
        gw.tensor([True, False]).requires_grad = True
    t.requires_grad = False  # turning it off is always allowed on a leaf
    f = gw.tensor([1.0, 2.0])
    f.requires_grad = True
    assert f.requires_grad
    (f * f).sum().backward()
    np.testing.assert_allclose(f.grad, [2.0, 4.0])


def test_requires_grad_false_on_a_non_leaf_raises_as_in_pytorch():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="non-leaf.*detach"):
        y.requires_grad = False
    assert y.requires_grad
    y.requires_grad = True  # already true: a no-op, as in PyTorch
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
