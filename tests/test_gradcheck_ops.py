"""Every differentiable op against central differences (gradwise.check.gradcheck, float64).

The cases come from tests/op_specs.py; a test below fails when an op registered in
OP_REGISTRY has no entry there, so a new op cannot ship without a gradient check.
"""
import importlib
import pkgutil

import numpy as np
import pytest
from op_specs import SPECS, covered_ops, rng_draw

import gradwise as gw
from gradwise.autograd import OP_REGISTRY, Function
from gradwise.check import GradcheckError, gradcheck, numerical_grad, relative_difference

SEEDS = (0, 1, 2, 3, 4)


def gradcheck_inputs(spec, seed):
    """The spec's inputs for gradcheck: differentiable ones as float64 arrays (gradcheck
    makes them require grad), constant float data as tensors that do not, integer and
    boolean data (labels, indices, masks) as arrays.

    The stream differs from gradcheck's (seeded with `seed` for its random upstream
    gradient R): with one seed, R would equal the first input up to a scale, and for
    batch norm, whose dX vanishes when dY is an affine function of X, that hides dX."""
    rng = np.random.default_rng([seed, 2024])
    arrays = spec.sample(rng_draw(rng), rng)
    inputs = []
    for arg, a in zip(spec.args, arrays):
        if arg.kind == "float":
            a = a.astype(np.float64)
            inputs.append(a if arg.grad else gw.Tensor(a))
        else:
            inputs.append(a)
    return inputs


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_gradcheck(spec, seed):
    inputs = gradcheck_inputs(spec, seed)
    result = gradcheck(spec.gw_fn, inputs, seed=seed)  # raises GradcheckError on a mismatch
    assert result.ok
    assert len(result.inputs) == sum(a.differentiable for a in spec.args)
    # well inside the course's "~1e-7 great" band, not just under gradcheck's tolerances
    assert result.difference < 1e-6, str(result)


def _import_all_gradwise_modules():
    """Ops register themselves when their module is imported: import every module (a module
    needing an optional third-party package that is not installed cannot define a live op)."""
    for mod in pkgutil.walk_packages(gw.__path__, prefix="gradwise."):
        if mod.name.rsplit(".", 1)[-1] == "__main__":
            continue
        try:
            importlib.import_module(mod.name)
        except ModuleNotFoundError as e:
            if (e.name or "").startswith("gradwise"):
                raise


def test_every_registered_op_has_a_spec():
    _import_all_gradwise_modules()
    library_ops = {name for name, cls in OP_REGISTRY.items() if cls.__module__.startswith("gradwise.")}
    uncovered = library_ops - covered_ops()
    assert not uncovered, (
        f"ops registered in OP_REGISTRY without an entry in tests/op_specs.py: {sorted(uncovered)}; "
        f"add a spec (gw_fn, torch_fn, shapes, input domains) for each"
    )
    unknown = covered_ops() - set(OP_REGISTRY)
    assert not unknown, f"specs name ops that are not in OP_REGISTRY: {sorted(unknown)}"


def test_every_spec_has_a_differentiable_input():
    for spec in SPECS:
        assert any(a.differentiable for a in spec.args), f"{spec.id} has nothing to differentiate"


def test_wrong_backward_is_detected_and_right_one_passes():
    before = dict(OP_REGISTRY)

    class Bad(Function, register=False):
        """y = sin(x) with the derivative's sign flipped."""

        def forward(self, x):
            self.x = x
            return np.sin(x)

        def backward(self, gy):
            return -np.cos(self.x) * gy

    class Good(Bad, register=False):
        def backward(self, gy):
            return np.cos(self.x) * gy

    assert OP_REGISTRY == before  # register=False keeps test ops out of the table
    x = np.random.default_rng(3).uniform(-1.2, 1.2, (4, 3))
    bad = gradcheck(lambda t: Bad()(t), [x], raise_exception=False)
    assert not bad.ok and bad.difference > 1e-3, str(bad)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: Bad()(t), [x])
    good = gradcheck(lambda t: Good()(t), [x])
    assert good.ok and good.difference < 1e-7, str(good)


# ---- gradcheck itself: it must catch a wrong backward and pass a right one ----------------
class _Square(Function, register=False):
    """y = x^2, dx = 2 x dy: correct."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return 2 * self.x * gy


class _SquareWrongFactor(_Square, register=False):
    """dx = 3 x dy: a wrong constant (relative difference 1/5)."""

    def backward(self, gy):
        return 3 * self.x * gy


class _SquareSlightlyOff(_Square, register=False):
    """dx = 2.02 x dy: a 1% error, still far above the 1e-3 'bug' threshold."""

    def backward(self, gy):
        return 2.02 * self.x * gy


class _MulForgetsTranspose(Function, register=False):
    """Z = A @ B with dB = A @ dZ (missing the transpose): wrong for non-symmetric A."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        return gy @ self.b.T, self.a @ gy


class _BroadcastAddNoSum(Function, register=False):
    """a + b, but returns a gradient the engine must sum back (it does, so this is right)."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


def test_bad_ops_are_not_registered():
    for cls in (_Square, _SquareWrongFactor, _SquareSlightlyOff, _MulForgetsTranspose):
        assert cls.__name__ not in OP_REGISTRY


@pytest.mark.parametrize("bad, shapes", [
    (_SquareWrongFactor, [(3, 4)]),
    (_SquareSlightlyOff, [(3, 4)]),
    (_MulForgetsTranspose, [(3, 3), (3, 3)]),
])
def test_wrong_backward_is_detected(bad, shapes):
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s) for s in shapes]
    f = lambda *xs: bad()(*xs)  # noqa: E731
    result = gradcheck(f, inputs, raise_exception=False)
    assert not result.ok
    assert result.difference > 1e-3, str(result)
    assert "mismatch" in str(result)
    with pytest.raises(GradcheckError, match="FAILED"):
        gradcheck(f, inputs)


def test_wrong_factor_gives_the_expected_difference():
    x = np.random.default_rng(1).standard_normal((5,))
    result = gradcheck(lambda x: _SquareWrongFactor()(x), [x], raise_exception=False)
    # ||3x - 2x|| / (||2x|| + ||3x||) = 1/5
    assert result.difference == pytest.approx(0.2, rel=1e-6)


@pytest.mark.parametrize("good, shapes", [
    (_Square, [(3, 4)]),
    (_BroadcastAddNoSum, [(4, 1, 3), (5, 1)]),
])
def test_correct_backward_passes_at_1e_7(good, shapes):
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s) for s in shapes]
    result = gradcheck(lambda *xs: good()(*xs), inputs)
    assert result.ok
    assert result.difference < 1e-7, str(result)


def test_numerical_grad_and_relative_difference():
    x = np.array([0.5, -1.0, 2.0])
    (g,) = numerical_grad(lambda t: (t * t * t).sum(), [x])
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_difference(np.ones(3), -np.ones(3)) == pytest.approx(1.0)


def test_gradcheck_refuses_inputs_without_grad():
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda i: gw.Tensor(i.data * 1.0), [np.arange(3)])


def _layouts():
    base = np.random.default_rng(5).standard_normal((4, 6))
    return {
        "C": base.copy(),
        "Fortran": np.asfortranarray(base),
        "transposed": base.T,
        "negative-strides": base[:, ::-1],
        "both-reversed": base[::-1, ::-1],
        "step-slice": base[::2],
        "step-slice-columns": base[:, 1::3],
        "3d-permuted": base.reshape(2, 3, 4).transpose(2, 0, 1),
        "0-d": np.array(1.7),
    }


@pytest.mark.parametrize("layout", sorted(_layouts()))
def test_numerical_grad_perturbs_inputs_of_every_layout(layout):
    x = _layouts()[layout]
    before = x.copy()
    (g,) = numerical_grad(lambda t: (t * t * t).sum(), [x])
    np.testing.assert_allclose(g, 3 * before ** 2, rtol=1e-7)
    np.testing.assert_array_equal(x, before)  # every element is restored


@pytest.mark.parametrize("layout", sorted(_layouts()))
def test_gradcheck_passes_a_correct_op_on_every_layout(layout):
    x = _layouts()[layout]
    result = gradcheck(lambda t: _Square()(t), [x])
    assert result.ok and result.difference < 1e-7, str(result)
    result = gradcheck(lambda t: _SquareWrongFactor()(t), [x], raise_exception=False)
    assert not result.ok


def test_numerical_grad_of_a_transposed_tensor_input():
    W = gw.Tensor(np.random.default_rng(0).standard_normal((3, 2)))
    x = np.random.default_rng(1).standard_normal(3)
    (g,) = numerical_grad(lambda Wt: (Wt @ gw.Tensor(x)).sum(), [W.T])
    np.testing.assert_allclose(g, np.broadcast_to(x, (2, 3)), rtol=1e-7)


def test_numerical_grad_of_a_read_only_view():
    x = np.broadcast_to(np.array([1.0, 2.0]), (3, 2))
    (g,) = numerical_grad(lambda t: (t * t).sum(), [x])
    np.testing.assert_allclose(g, 2 * x, rtol=1e-7)
