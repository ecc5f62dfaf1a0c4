"""The lab: every experiment's --quick form runs and reproduces its key numbers, and the
course experiments follow the notebooks' arithmetic to rounding (checked against plain-NumPy
transcriptions of the notebooks' loops, at every iteration, beyond the printed digits).

The course's datasets are looked up in $GRADWISE_DATA, else in ../shared/datasets next to
the repository; without them the experiments that read them are skipped, saying which file
is missing.
"""
import contextlib
import json
import math
import os

import numpy as np
import pytest
from shared_data import SHARED, skip_reason

from gradwise.datasets import load_planar_dataset, make_moons
from gradwise.lab import REGISTRY, Result, markdown
from gradwise.lab.core import Experiment, Run
from gradwise.lab.course import course_cost, course_draws, course_mlp

# the book's MNIST experiments (experiments/book_*.py) are tested in test_lab_book.py
COURSE = [n for n, e in REGISTRY.items() if not e.fn.__module__.rsplit(".", 1)[-1].startswith("book_")]

# experiment -> {check name: (reference, tolerance)}: the key numbers of each quick run
QUICK_CHECKS = {
    "planar": {"cost, iterations 0-7000 (printed to 6 decimals)": (0.0, 1e-6),
               "n_h = 4 accuracy (%; printed as the integer 90)": (90.0, 1.0),
               "hidden-size sweep: n_h = 3 accuracy (%)": (90.75, 0.0),
               "logistic regression accuracy (%)": (47.0, 2.0)},
    "cat_logistic": {"cost every 100 iterations (printed to 6 decimals)": (0.0, 1e-6),
                     "lr 0.001: cost every 100 iterations (full floats)": (0.0, 1e-9)},
    "cat_deep": {"two-layer 12288-7-1: cost every 100 iterations (full floats)": (0.0, 1e-9),
                 "four-layer [12288, 20, 7, 5, 1]: cost every 100 iterations (full floats)": (0.0, 1e-9)},
    "initialization": {"He: cost every 1000 iterations (full floats)": (0.0, 1e-9),
                       "zeros: cost every 1000 iterations (full floats)": (0.0, 1e-9),
                       "large: the cost at iteration 0 is inf (sigmoid rounds to 1)": (math.inf, 0.0)},
    "regularization": {"dropout, keep_prob 0.86: cost every 10,000 iterations (full floats)": (0.0, 1e-9),
                       "L2, lambda 0.7: cost every 10,000 iterations (full floats)": (0.0, 1e-9)},
    "gradient_checking": {"N-D difference, backprop by autograd": (1.19e-7, 5e-8),
                          "N-D difference with the broken backward": (0.2850931567761623, 1e-6)},
    "optimization": {"adam: cost every 1000 epochs (printed to 6 decimals)": (0.0, 1e-6),
                     "gd + decay: cost every 1000 epochs (printed to 6 decimals)": (0.0, 1e-6)},
    "ewa": {"quiz: v_2 without bias correction (beta 0.5)": (7.5, 1e-12),
            "quiz: v_2 with bias correction": (10.0, 1e-12)},
    "perceptron": {"XOR by two layers (NAND, OR -> AND)": (1.0, 0.0),
                   "XOR: best single perceptron accuracy": (0.75, 0.0)},
    # trained models: the quick runs' numbers, to the margin BLAS rounding leaves them
    "dinosaurs": {"held-out loss per character (nats)": (1.16, 0.15)},
    "dates": {"held-out exact match (fraction of dates)": (0.68, 0.15)},
}


# recurrent models multiply matrices of 64 x 64 once per time step: on a busy 2-core machine
# BLAS threads only spin-wait there (a quick run takes 7x longer), so these run on one
ONE_STEP_AT_A_TIME = {"dinosaurs", "dates"}


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn (test extra)
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@pytest.fixture
def data_env(monkeypatch):
    if not os.environ.get("GRADWISE_DATA") and SHARED.is_dir():
        monkeypatch.setenv("GRADWISE_DATA", str(SHARED))


@pytest.mark.parametrize("name", COURSE)
def test_quick_run_reproduces(name, tmp_path, data_env):
    exp = REGISTRY[name]
    if exp.missing_data():
        pytest.skip(f"{name}: {skip_reason(exp.missing_data())}")
    with _one_blas_thread() if name in ONE_STEP_AT_A_TIME else contextlib.nullcontext():
        result = exp.run(tmp_path, quick=True, progress=False)
    assert result.checks, f"{name} recorded no comparison with a reference"
    failed = [c for c in result.checks if not c["ok"]]
    assert not failed, f"{name}: not reproduced: {failed}"
    by_name = {c["name"]: c for c in result.checks}
    for check, (reference, tol) in QUICK_CHECKS[name].items():
        ours = by_name[check]["ours"]
        assert ours == reference or abs(ours - reference) <= tol, (check, ours, reference)
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["reproduced"] is True and saved["quick"] is True
    assert saved["plots"], f"{name} wrote no plot"
    for plot in saved["plots"]:
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_experiment_has_explicit_quick_assertions():
    assert set(QUICK_CHECKS) == set(COURSE)


# ---- exactness beyond the printed digits -----------------------------------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_planar_follows_the_notebook_loop_at_every_iteration():
    """nn_model of the planar notebook, transcribed in its own (n_x, m) layout, against the
    lab's gradwise network: the same cost at each of 300 iterations, to 1e-13."""
    from gradwise import optim
    from gradwise.lab.course import as_inputs, as_targets, train_full_batch

    X_b, y = load_planar_dataset()
    X, Y = X_b.T, y.reshape(1, -1).astype(np.float64)
    np.random.seed(2)  # the notebook's initialize_parameters, on NumPy's global generator
    W1 = np.random.randn(4, 2) * 0.01
    W2 = np.random.randn(1, 4) * 0.01
    b1, b2, m = np.zeros((4, 1)), np.zeros((1, 1)), X.shape[1]
    reference = []
    for _ in range(300):
        A1 = np.tanh(W1 @ X + b1)
        A2 = _sigmoid(W2 @ A1 + b2)
        reference.append(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)
        dZ2 = A2 - Y
        dW2, db2 = dZ2 @ A1.T / m, dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
        dW1, db1 = dZ1 @ X.T / m, dZ1.sum(axis=1, keepdims=True) / m
        W1, b1, W2, b2 = W1 - 1.2 * dW1, b1 - 1.2 * db1, W2 - 1.2 * dW2, b2 - 1.2 * db2

    model = course_mlp([2, 4, 1], hidden="tanh", init="small", seed=2)
    costs = train_full_batch(model, as_inputs(X_b), as_targets(y), optim.SGD(model.parameters(), lr=1.2),
                             300, every=1, progress=lambda it, desc=None: it)
    assert np.max(np.abs(np.array([costs[i] for i in range(300)]) - reference)) < 1e-13
    np.testing.assert_allclose(model[0].W.data, W1, rtol=0, atol=1e-13)


def test_optimization_minibatches_and_adam_follow_the_notebook():
    """random_mini_batches + update_parameters_with_adam of the optimization notebook,
    transcribed, against the lab's loop (gradwise Adam and course mini-batches) for 20 epochs."""
    from gradwise.lab.experiments import optimization as opt_exp

    X_b, y = make_moons(300, noise=0.2, random_state=3)
    X, Y = X_b.T, y.reshape(1, -1).astype(np.float64)
    params = course_draws([2, 5, 2, 1], "he", seed=3)
    W = [p[0].copy() for p in params]
    b = [p[1].reshape(-1, 1).copy() for p in params]
    v = [np.zeros_like(w) for w in W] + [np.zeros_like(c) for c in b]
    s = [np.zeros_like(a) for a in v]
    t, seed, reference = 0, 10, {}
    for epoch in range(20):
        seed += 1
        np.random.seed(seed)
        perm = list(np.random.permutation(300))
        Xs, Ys = X[:, perm], Y[:, perm]
        total = 0.0
        for k in range(0, 300, 64):
            Xb, Yb = Xs[:, k:k + 64], Ys[:, k:k + 64]
            m = Xb.shape[1]
            A = [Xb]
            for l in range(3):
                Z = W[l] @ A[-1] + b[l]
                A.append(np.maximum(Z, 0) if l < 2 else _sigmoid(Z))
            total += np.sum(-np.log(A[3]) * Yb - np.log(1 - A[3]) * (1 - Yb))
            dZ = (A[3] - Yb) / m
            grads_W, grads_b = [None] * 3, [None] * 3
            for l in (2, 1, 0):
                grads_W[l], grads_b[l] = dZ @ A[l].T, dZ.sum(axis=1, keepdims=True)
                if l:
                    dZ = (W[l].T @ dZ) * (A[l] > 0)
            t += 1
            for i, (p, g) in enumerate(zip(W + b, grads_W + grads_b)):
                v[i] = 0.9 * v[i] + 0.1 * g
                s[i] = 0.999 * s[i] + 0.001 * g ** 2
                p -= 0.0007 * (v[i] / (1 - 0.9 ** t)) / (np.sqrt(s[i] / (1 - 0.999 ** t)) + 1e-8)
        reference[epoch] = total / 300

    class _Run:
        progress = staticmethod(lambda it, desc=None: it)

    model, costs = opt_exp.train("adam", 0.0007, False, X_b, y, 20, _Run, "adam")
    assert abs(costs[0] - reference[0]) < 1e-14
    for l, layer in enumerate(m for m in model.modules() if hasattr(m, "W")):
        np.testing.assert_allclose(layer.W.data, W[l], rtol=0, atol=1e-12)


def test_course_draws_are_the_notebooks_seeded_draws():
    np.random.seed(3)
    W1 = np.random.randn(10, 2) * np.sqrt(2.0 / 2)
    W2 = np.random.randn(5, 10) * np.sqrt(2.0 / 10)
    (A, a), (B, _), _ = course_draws([2, 10, 5, 1], "he", seed=3)
    assert np.array_equal(A, W1) and np.array_equal(B, W2) and not a.any()
    np.random.seed(1)
    first = np.random.randn(20, 12288) / np.sqrt(12288)
    assert np.array_equal(course_draws([12288, 20, 7, 5, 1], "xavier", 1)[0][0], first)
    assert not any(W.any() for W, _ in course_draws([2, 3, 1], "zeros", 0))
    with pytest.raises(ValueError, match="init must be one of"):
        course_draws([2, 3], "glorot", 0)
    with pytest.raises(ValueError, match="at least two positive sizes"):
        course_draws([2], "he", 0)


def test_course_cost_is_inf_where_the_notebook_prints_inf():
    from gradwise import tensor

    Z = tensor(np.array([[40.0], [-3.0]]))
    Y = np.array([[0.0], [0.0]])
    assert course_cost(Z, Y) == math.inf            # sigmoid(40) rounds to 1 against label 0
    Y1 = np.array([[1.0], [0.0]])                    # against label 1 it costs 0, not NaN
    assert course_cost(Z, Y1) == pytest.approx(-np.log(1 - _sigmoid(-3.0)) / 2)


# ---- the machinery ------------------------------------------------------------------------
def _fake(tmp_path, fn, name="fake"):
    return Experiment(name, "a fake", "nowhere", fn).run(tmp_path, progress=False)


def test_series_check_and_inf_values(tmp_path):
    def fn(run):
        run.check_series("curve", {0: 1.0, 10: 0.5, 20: 0.25}, {0: 1.0, 10: 0.5 + 1e-10}, 1e-9)
        run.check_series("off curve", {0: 1.0}, {0: 1.1}, 1e-3)
        run.check("inf", math.inf, math.inf, 0.0)
        run.check("nan", math.nan, 1.0, 1.0)

    r = _fake(tmp_path, fn)
    ok = {c["name"]: c["ok"] for c in r.checks}
    assert ok == {"curve": True, "off curve": False, "inf": True, "nan": False}
    assert not r.reproduced
    assert r.checks[0]["points"] == [[0, 1.0, 1.0], [10, 0.5, 0.5 + 1e-10]]
    assert "max |diff|" in r.summary() and "MISS" in r.summary()
    def strict(constant):
        raise ValueError(f"not strict JSON: {constant}")

    json.loads((tmp_path / "fake.json").read_text(), parse_constant=strict)   # no bare Infinity
    loaded = Result.load(tmp_path / "fake.json")         # round trip, inf and NaN included
    assert loaded.checks[2]["ours"] == math.inf and math.isnan(loaded.checks[3]["ours"])
    table = markdown([loaded])
    assert "curve: 2 published values (±1e-09)" in table and "✗" in table
    with pytest.raises(KeyError, match="no value of ours at steps \\[5\\]"):
        _fake(tmp_path, lambda run: run.check_series("c", {0: 1.0}, {5: 1.0}, 1.0))


def test_an_experiment_without_checks_is_not_reproduced(tmp_path):
    assert not _fake(tmp_path, lambda run: None).reproduced


def test_plots_are_written_atomically_and_listed(tmp_path):
    from gradwise.lab.plots import figure

    def fn(run):
        fig, (ax,) = figure()
        ax.plot([0, 1], [1, 0])
        run.savefig(fig, "line")
        run.check("one", 1.0, 1.0, 0.0)

    r = _fake(tmp_path, fn)
    assert r.plots == ["fake-line.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-line.png", "fake.json"]


def test_run_object_gives_progress_that_can_be_silenced(tmp_path):
    run = Run(Experiment("x", "x", "x", lambda r: None), tmp_path, quick=True, progress=False)
    assert list(run.progress(range(3))) == [0, 1, 2]
