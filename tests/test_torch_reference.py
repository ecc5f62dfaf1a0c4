"""Differential tests: every op spec against PyTorch, driven by hypothesis.

For each spec in tests/op_specs.py hypothesis draws the input shapes and a seed for the
values; then
  * float64: the forward value and the gradient of every differentiable input must agree
    with torch to ~1e-9 (the upstream gradient is random for non-scalar outputs, so every
    column of the Jacobian is exercised; scalar outputs use backward() with no argument);
  * float32: gradwise's forward in float32 must stay float32 and agree with torch's float64
    result on the same (float32-rounded) inputs within the spec's float32 tolerance.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from op_specs import SPECS  # noqa: E402

import gradwise as gw  # noqa: E402

_HEALTH = [HealthCheck.too_slow, HealthCheck.differing_executors]
F64_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=_HEALTH)
F32_SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=_HEALTH)

# torch's own note that padding='same' with an even kernel copies the input
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

F64_RTOL, F64_ATOL = 1e-9, 1e-11


def draw_inputs(spec, data):
    """Shapes from hypothesis, values from a generator seeded by hypothesis (shrinkable)."""
    draw = lambda lo, hi: data.draw(st.integers(lo, hi))  # noqa: E731
    seed = data.draw(st.integers(0, 2**32 - 1), label="value seed")
    rng = np.random.default_rng(seed)
    return spec.sample(draw, rng), rng


def to_gw(spec, arrays, dtype):
    out = []
    for arg, a in zip(spec.args, arrays):
        if arg.kind == "float":
            out.append(gw.Tensor(a.astype(dtype), requires_grad=arg.differentiable))
        else:
            out.append(gw.Tensor(a))
    return out


def to_torch(spec, arrays, dtype):
    out = []
    for arg, a in zip(spec.args, arrays):
        if arg.kind == "float":
            out.append(torch.tensor(a, dtype=dtype, requires_grad=arg.differentiable))
        elif arg.kind == "int":
            out.append(torch.from_numpy(a.astype(np.int64)))
        else:
            out.append(torch.from_numpy(a.astype(bool)))
    return out


def _np(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
@F64_SETTINGS
@given(data=st.data())
def test_float64_forward_and_gradients_match_torch(spec, data):
    arrays, rng = draw_inputs(spec, data)
    xs, ts = to_gw(spec, arrays, np.float64), to_torch(spec, arrays, torch.float64)

    y, ty = spec.gw_fn(*xs), spec.torch_fn(*ts)
    assert y.shape == tuple(ty.shape), f"shape {y.shape} vs torch {tuple(ty.shape)}"
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, _np(ty), rtol=F64_RTOL, atol=F64_ATOL, err_msg="forward")

    if y.ndim == 0:
        y.backward()
        ty.backward()
    else:
        R = rng.standard_normal(y.shape)
        y.backward(R)
        ty.backward(torch.from_numpy(R))

    for i, (arg, x, t) in enumerate(zip(spec.args, xs, ts)):
        if not arg.differentiable:
            assert x.grad is None, f"input {i} is data but got a gradient"
            continue
        expected = np.zeros(x.shape) if t.grad is None else _np(t.grad)
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape and x.grad.dtype == np.float64
        np.testing.assert_allclose(x.grad, expected, rtol=F64_RTOL, atol=F64_ATOL,
                                   err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
@F32_SETTINGS
@given(data=st.data())
def test_float32_forward_matches_torch(spec, data):
    arrays, _ = draw_inputs(spec, data)
    # the reference: torch in float64 on exactly the float32 values gradwise sees
    rounded = [a.astype(np.float32).astype(np.float64) if arg.kind == "float" else a
               for arg, a in zip(spec.args, arrays)]
    with torch.no_grad():
        ref = _np(spec.torch_fn(*to_torch(spec, rounded, torch.float64)))
    y = spec.gw_fn(*to_gw(spec, arrays, np.float32))
    assert y.dtype == np.float32, f"float32 inputs gave a {y.dtype} output"
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.data, ref, rtol=spec.f32_rtol, atol=spec.f32_atol)
