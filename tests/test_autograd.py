"""The autograd engine: graph recording, accumulation, freeing, grad modes, errors."""
import sys

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F


def test_chain_rule_through_a_shared_node():
    # y = x*x + x*x uses x four times; dy/dx = 4x
    x = gw.tensor([1.0, -2.0, 3.0], requires_grad=True)
    a = x * x
    (a + a).sum().backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)


def test_gradients_accumulate_across_backward_calls():
    x = gw.tensor([2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0])


def test_graph_is_freed_after_backward():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp(x.data), rtol=1e-6)


def test_backward_of_non_scalar_needs_grad():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\)"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_backward_grad_of_wrong_shape_is_an_error():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad has shape"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_grad_is_an_error():
    x = gw.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_backward_on_a_leaf():
    x = gw.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_deep_graph_has_no_recursion_limit():
    x = gw.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() * 3):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_no_grad_context_and_decorator():
    x = gw.tensor([1.0], requires_grad=True)
    with gw.no_grad():
        y = x * 2
        assert not gw.is_grad_enabled()
        with gw.enable_grad():
            z = x * 2
    assert gw.is_grad_enabled()
    assert not y.requires_grad and y.creator is None
    assert z.requires_grad and z.creator is not None

    @gw.no_grad()
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad
    assert gw.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with gw.no_grad():
            raise ValueError("boom")
    assert gw.is_grad_enabled()


def test_broadcast_gradient_is_summed_back_to_input_shape():
    a = gw.tensor(np.ones((4, 1, 3)), requires_grad=True)
    b = gw.tensor(np.ones((5, 1)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (4, 1, 3) and b.grad.shape == (5, 1)
    np.testing.assert_allclose(a.grad, np.full((4, 1, 3), 5.0))
    np.testing.assert_allclose(b.grad, np.full((5, 1), 12.0))


def test_same_gradient_array_is_not_shared_between_leaves():
    a = gw.tensor([1.0, 2.0], requires_grad=True)
    b = gw.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 1  # must not change b.grad
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_retain_grad_on_intermediate():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    np.testing.assert_allclose(x.grad, 18 * x.data)


def test_input_without_grad_gets_no_grad():
    X = gw.randn(4, 3)
    W = gw.randn(2, 3, requires_grad=True)
    F.linear(X, W).sum().backward()
    assert X.grad is None and W.grad.shape == (2, 3)


def test_detach_cuts_the_graph():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad
    z = (x * y).sum()
    z.backward()
    np.testing.assert_allclose(x.grad, y.data)


# ---- a user's Function whose backward breaks the contract: clear errors naming the op --------
def _custom(backward, n_inputs=1):
    class MyOp(gw.Function, register=False):
        def forward(self, *xs):
            return sum(xs[1:], xs[0]) * 2

    MyOp.backward = lambda self, gy: backward(gy)
    return MyOp


def _run(op, *shapes):
    xs = [gw.tensor(np.ones(s), requires_grad=True) for s in shapes]
    op()(*xs).sum().backward()
    return xs


def test_backward_returning_a_wrong_shape_names_the_op_input_and_shapes():
    op = _custom(lambda gy: gy.T * 2)  # (4, 3) for a (3, 4) input: same size, wrong shape
    with pytest.raises(RuntimeError, match=r"MyOp.backward.*shape \(4, 3\) for input 0 of shape \(3, 4\)"):
        _run(op, (3, 4))
    op = _custom(lambda gy: np.ones(5))
    with pytest.raises(RuntimeError, match=r"MyOp.backward.*shape \(5,\) for input 0 of shape \(3, 4\)"):
        _run(op, (3, 4))


def test_backward_returning_none_for_an_input_that_needs_a_gradient():
    op = _custom(lambda gy: (gy * 2, None))
    with pytest.raises(RuntimeError, match=r"MyOp.backward returned None for input 1.*\(2,\)"):
        _run(op, (2,), (2,))


def test_backward_returning_the_wrong_number_of_gradients():
    op = _custom(lambda gy: (gy * 2, gy * 2))
    with pytest.raises(RuntimeError, match=r"MyOp.backward returned 2 gradients for 1 input"):
        _run(op, (2,))
    op = _custom(lambda gy: gy * 2)
    with pytest.raises(RuntimeError, match=r"MyOp.backward returned 1 gradient for 2 inputs"):
        _run(op, (2,), (2,))


@pytest.mark.parametrize("bad, kind", [(lambda gy: ([1.0, 1.0],), "list"), (lambda gy: 2.0, "float"),
                                       (lambda gy: gw.tensor(gy * 2), "Tensor")])
def test_backward_returning_a_non_array(bad, kind):
    with pytest.raises(RuntimeError, match=rf"MyOp.backward returned a {kind} for input 0"):
        _run(_custom(bad), (2,))


def test_backward_may_return_a_broadcast_shape_a_list_or_a_numpy_scalar():
    a, b = _run(_custom(lambda gy: [gy * 2, gy * 2]), (2, 3), (3,))  # b's gradient summed back
    np.testing.assert_allclose(b.grad, np.full(3, 4.0))
    (x,) = _run(_custom(lambda gy: np.float64(2.0) * gy[()]), ())
    assert x.grad == 2.0


# ---- casts are differentiable between floating dtypes -------------------------------------
def test_float_cast_keeps_the_graph_and_casts_the_gradient_back():
    x = gw.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)   # float64
    y = (x * 2).float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, 8 * x.data, rtol=1e-6)


@pytest.mark.parametrize("cast", [lambda t: t.double(), lambda t: t.astype(np.float64),
                                  lambda t: t.astype("float16"), lambda t: t.float()])
def test_every_float_cast_is_differentiable(cast):
    x = gw.tensor([0.5, 1.5], requires_grad=True)                    # float32
    (cast(x) * 3).sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_a_cast_copies_the_data():
    x = gw.tensor([1.0, 2.0])
    y = x.float()
    y.data[0] = 5.0
    assert x.data[0] == 1.0


def test_cast_to_an_integer_dtype_leaves_the_graph():
    x = gw.tensor([1.7, -2.2], requires_grad=True)
    for y in (x.astype(np.int64), x.astype(bool)):
        assert not y.requires_grad and y.creator is None
    np.testing.assert_array_equal(x.astype(np.int32).data, [1, -2])
    assert gw.tensor([1, 2]).float().dtype == np.float32


def test_an_op_given_an_array_names_itself_and_the_input():
    import gradwise.functional as F

    with pytest.raises(TypeError, match=r"ReLU: input 0 is a ndarray, not a Tensor"):
        F.relu(np.ones(3))
    with pytest.raises(TypeError, match=r"Linear: input 1 is a ndarray"):
        F.linear(gw.tensor(np.ones((2, 3))), np.ones((4, 3)))
