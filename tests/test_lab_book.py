"""The book's MNIST experiments ("Deep Learning from Scratch", ch. 5-7) in the lab: each
--quick form runs on real MNIST and holds its key claims, and the pieces they are built
from (the book's MultiLayerNet, its weight scales, its dropout and weight decay, the
side-by-side training loops, bound checks, the report's rerun column, the CNN recipes and
transfer learning of gradwise.lab.mnist) behave as documented.

MNIST is looked up in $GRADWISE_DATA, else in ../shared/datasets next to the repository;
without it the quick runs are skipped, saying which file is missing.
"""
import json
import math
import os

import numpy as np
import pytest
from shared_data import DATA, SHARED, needs_mnist, skip_reason

import gradwise as gw
from gradwise import functional as F
from gradwise import nn, optim
from gradwise.data import DataLoader
from gradwise.lab import REGISTRY, Result, markdown
from gradwise.lab.book import (
    BOOK_BN_EPS,
    BookBatchNorm1d,
    BookDropout,
    batches,
    decay_weights_only,
    multi_layer_net,
    train_epochs,
    train_side_by_side,
    weight_scale,
)
from gradwise.lab.core import Experiment
from gradwise.lab.report import rerun

BOOK = [n for n, e in REGISTRY.items() if e.fn.__module__.rsplit(".", 1)[-1].startswith("book_")]


def value(reference, tol):
    return ("value", reference, tol)


def bound(low=None, high=None):
    return ("bound", low, high)


# experiment -> {check name: what the quick run must show}; each experiment's docstring says
# why the tolerance or bound is what the book's figure or text supports
QUICK_CHECKS = {
    "two_layer_net": {
        "gradient check b1: relative difference, backprop vs numerical": value(0.0, 1e-7),
        "gradient check W2: relative difference, backprop vs numerical": value(0.0, 1e-7),
        "test accuracy after 3,000 iterations (within 3 points of ~0.97)": value(0.97, 0.03),
        "train - test accuracy gap (the curves stay together)": value(0.0, 0.02)},
    "optimizer_comparison": {
        "SGD is the slowest: rank of its final loss (last 100 iterations) (1 = lowest)": value(4, 0),
        "SGD is the slowest: rank of its mean loss over the run (1 = lowest)": value(4, 0),
        "lowest final loss is AdaGrad's or Adam's: min(AdaGrad, Adam) - min(SGD, Momentum)": bound(high=0.0)},
    "weight_init": {
        "std=0.01: final loss (does not learn: ln 10 = 2.3026)": value(math.log(10), 0.01),
        "He learns fastest: final loss He - Xavier": bound(high=0.0),
        "ReLU, He: activation RMS factor per layer (He et al.: 1)": value(1.0, 0.05),
        "ReLU, Xavier: activation RMS factor per layer (He et al.: 0.7071)": value(math.sqrt(0.5), 0.0354),
        "sigmoid, std 1: share of layer-5 activations within 0.05 of 0 or 1": bound(low=0.5),
        "sigmoid, std 0.01: largest |a - 0.5| in layer 5": bound(high=0.1)},
    "batch_norm": {
        "share of the 4 scales where batch norm is ahead (mean accuracy over 20 epochs)": bound(low=0.75),
        "share of scales where the plain net is stuck (final accuracy < 0.2)": bound(low=0.5),
        "share of scales where the net with batch norm is stuck (final accuracy < 0.2)": bound(high=0.125)},
    "overfitting": {
        "no regularization: final training accuracy": value(1.0, 0.01),
        "no regularization: train - test accuracy gap": bound(low=0.15),
        "weight decay 0.1: gap minus the unregularized gap": bound(high=-0.03),
        "dropout 0.2 (the book's): gap minus the unregularized gap": bound(high=-0.03)},
    "hyperparameter_search": {
        "share of the best 3 trials with lr in [1e-3, 1e-2]": bound(low=1.0)},
    "simple_convnet": {"test accuracy after 1 epoch on 10,000 digits (it learns)": bound(low=0.85)},
    "lenet5": {"test accuracy after 1 epoch on 10,000 digits (it learns)": bound(low=0.85)},
}


@pytest.fixture
def data_env(monkeypatch):
    if not os.environ.get("GRADWISE_DATA") and SHARED.is_dir():
        monkeypatch.setenv("GRADWISE_DATA", str(SHARED))


def _holds(ours, expectation) -> bool:
    kind, a, b = expectation
    if kind == "value":
        return ours == a or abs(ours - a) <= b
    return (a is None or ours >= a) and (b is None or ours <= b)


# each quick run trains real networks on MNIST: 3-12 s of CPU apiece
@pytest.mark.parametrize("name", BOOK)
def test_quick_run_reproduces(name, tmp_path, data_env):
    exp = REGISTRY[name]
    if exp.missing_data():
        pytest.skip(f"{name}: {skip_reason(exp.missing_data())}")
    result = exp.run(tmp_path, quick=True, progress=False)
    failed = [c for c in result.checks if not c["ok"]]
    assert result.checks and not failed, f"{name}: not reproduced: {failed}"
    by_name = {c["name"]: c for c in result.checks}
    for check, expectation in QUICK_CHECKS[name].items():
        assert check in by_name, f"{name}: no check named {check!r}; it has {list(by_name)}"
        assert _holds(by_name[check]["ours"], expectation), (check, by_name[check]["ours"], expectation)
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["reproduced"] is True and saved["quick"] is True
    assert saved["plots"], f"{name} wrote no plot"
    for plot in saved["plots"]:
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_book_experiment_has_explicit_quick_assertions():
    assert set(QUICK_CHECKS) == set(BOOK)
    assert {"two_layer_net", "optimizer_comparison", "weight_init", "batch_norm", "overfitting",
            "hyperparameter_search", "simple_convnet", "lenet5"} <= set(BOOK)
    for name in BOOK:
        exp = REGISTRY[name]
        assert exp.quick_note and "mnist/train-images-idx3-ubyte.gz" in exp.needs
        assert "Deep Learning from Scratch" in exp.source or "LeCun" in exp.source


# ---- the book's networks --------------------------------------------------------------------
def test_weight_scale_names_the_books_choices():
    assert weight_scale("relu", 100) == weight_scale("he", 100) == math.sqrt(2 / 100)
    assert weight_scale("sigmoid", 784) == weight_scale("Xavier", 784) == math.sqrt(1 / 784)
    assert weight_scale(0.01, 100) == 0.01
    with pytest.raises(ValueError, match="'relu'/'he', 'sigmoid'/'xavier' or a number"):
        weight_scale("glorot", 100)
    with pytest.raises(ValueError, match="must be positive"):
        weight_scale(0.0, 100)


def test_multi_layer_net_is_the_books_layout_and_draws():
    gw.manual_seed(0)
    net = multi_layer_net([100, 100], weight_init_std="relu", batch_norm=True, dropout=0.2)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BookBatchNorm1d", "ReLU", "BookDropout"] * 2 + ["Linear"]
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 100), (100, 100), (100, 10)]
    assert all(m.eps == BOOK_BN_EPS for m in net if isinstance(m, nn.BatchNorm1d))
    for m in linears:   # W = sqrt(2 / n_prev) * randn, the last layer too; biases zero
        assert m.W.data.std() == pytest.approx(math.sqrt(2 / m.in_features), rel=0.1)
        assert not m.b.data.any()
    plain = multi_layer_net([50], weight_init_std=0.01, activation="sigmoid", dropout=0.5,
                            dropout_form="inverted")
    assert [type(m).__name__ for m in plain] == ["Linear", "Sigmoid", "Dropout", "Linear"]
    assert plain[0].W.data.std() == pytest.approx(0.01, rel=0.05)
    assert plain(gw.zeros(3, 784)).shape == (3, 10)
    with pytest.raises(ValueError, match="dropout_form must be 'book' or 'inverted'"):
        multi_layer_net([10], dropout=0.1, dropout_form="scaled")
    with pytest.raises(ValueError, match="activation must be one of"):
        multi_layer_net([10], activation="gelu")


def test_book_dropout_passes_units_unscaled_and_scales_at_test_time():
    gw.manual_seed(0)
    drop = BookDropout(0.2)
    A = gw.tensor(np.full((200, 50), 3.0), requires_grad=True)
    out = drop(A)
    kept = out.data != 0
    assert np.all(out.data[kept] == 3.0)                    # no 1 / (1 - p) in training
    assert abs(1 - kept.mean() - 0.2) < 0.02                 # about p of the units dropped
    out.sum().backward()
    np.testing.assert_array_equal(A.grad, kept.astype(A.grad.dtype))   # the mask passes dA
    drop.eval()
    np.testing.assert_allclose(drop(A).data, 3.0 * 0.8)      # every unit times 1 - p
    # the same expected activation in training as at test time
    drop.train()
    assert drop(gw.ones(4000, 100)).data.mean() == pytest.approx(0.8, abs=0.01)
    with pytest.raises(ValueError, match="p must be in \\[0, 1\\)"):
        BookDropout(1.0)


def test_weight_decay_groups_are_the_books_penalty_on_weights_only():
    """SGD with decay_weights_only(model, lambd) steps as plain SGD on
    loss + 0.5 lambd sum ||W||^2 over the weight matrices (biases and gamma/beta free)."""
    gw.set_default_dtype(np.float64)
    try:
        gw.manual_seed(1)
        a = multi_layer_net([6], weight_init_std=0.5, batch_norm=True, input_size=5, output_size=3)
        b = multi_layer_net([6], weight_init_std=0.5, batch_norm=True, input_size=5, output_size=3)
        b.load_state_dict(a.state_dict())
        X, y = gw.randn(8, 5), np.array([0, 1, 2, 0, 1, 2, 0, 1])
        groups = decay_weights_only(a, 0.1)
        assert [len(g["params"]) for g in groups] == [2, 4]    # W1, W2 | b1, gamma, beta, b2
        opt_a = optim.SGD(groups, lr=0.5)
        loss = F.cross_entropy(a(X), y)
        opt_a.zero_grad()
        loss.backward()
        opt_a.step()
        opt_b = optim.SGD(b.parameters(), lr=0.5)
        weights = [p for p in b.parameters() if p.ndim >= 2]
        penalised = F.cross_entropy(b(X), y) + 0.5 * 0.1 * sum((W * W).sum() for W in weights)
        opt_b.zero_grad()
        penalised.backward()
        opt_b.step()
        for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
            np.testing.assert_allclose(va, vb, rtol=0, atol=1e-12, err_msg=k)
    finally:
        gw.set_default_dtype(np.float32)


def test_batches_cycle_through_shuffled_epochs():
    X = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    gw.manual_seed(0)
    got = [yb.data.tolist() for _, yb in batches(X, y, 4, 7)]
    assert len(got) == 7 and all(len(b) == 4 for b in got)
    # two full batches per epoch (the last partial one dropped): no example twice in an epoch
    for epoch in range(3):
        seen = got[2 * epoch] + got[2 * epoch + 1]
        assert len(set(seen)) == 8
    assert list(batches(X, y, 4, 0)) == []


def test_networks_trained_side_by_side_see_the_same_batches():
    gw.manual_seed(3)
    X = gw.rand(64, 784).data
    y = np.arange(64) % 10
    nets = {}
    for name in ("a", "b"):
        gw.manual_seed(7)
        m = multi_layer_net([20], weight_init_std="he")
        nets[name] = (m, optim.SGD(m.parameters(), lr=0.1))
    losses = train_side_by_side(nets, X, y, 16, 12, lambda it, total=None, desc=None: it)
    assert len(losses["a"]) == 12 and losses["a"] == losses["b"]
    assert np.mean(losses["a"][-4:]) < np.mean(losses["a"][:4])   # it learns
    curves = train_epochs(nets, X, y, 3, 16, {"train": (X, y)}, lambda it, desc=None: it)
    assert curves["a"] == curves["b"] and len(curves["a"]["train"]) == 3
    assert all(0.0 <= acc <= 1.0 for acc in curves["a"]["train"])


def test_two_layer_gradient_check_agrees_with_central_differences():
    from gradwise.lab.experiments.book_two_layer import gradient_check

    gw.manual_seed(0)
    net = multi_layer_net([4], weight_init_std=0.3, input_size=6, output_size=3)
    diffs = gradient_check(net, np.random.default_rng(0).random((3, 6)), np.array([0, 2, 1]))
    assert set(diffs) == {"W1", "b1", "W2", "b2"}
    assert all(rel < 1e-7 and mean_abs < 1e-8 for rel, mean_abs in diffs.values())


def test_relu_activation_scale_follows_he_et_al():
    from gradwise.lab.experiments.book_weight_init import activations, rms_factor

    # with W ~ N(0, s^2) over n = 100 inputs the RMS changes by sqrt(n s^2 / 2) per layer
    assert rms_factor(activations("relu", "he")) == pytest.approx(1.0, abs=0.05)
    assert rms_factor(activations("relu", 0.05)) == pytest.approx(math.sqrt(100 * 0.05 ** 2 / 2), rel=0.05)
    sig = activations("sigmoid", 0.01)
    assert len(sig) == 5 and np.abs(sig[-1] - 0.5).max() < 0.1


# ---- bound checks and the report ---------------------------------------------------------
def _fake(tmp_path, fn, name="fake"):
    return Experiment(name, "a fake", "nowhere", fn).run(tmp_path, progress=False)


def test_bound_checks_hold_inequalities(tmp_path):
    def fn(run):
        run.check_bound("at least", 0.6, low=0.5)
        run.check_bound("at most", 0.2, high=0.1)
        run.check_bound("between", 0.8, low=0.7, high=0.9)
        run.check_bound("nan", math.nan, low=0.0)
        run.check_bound("edge", 0.5, low=0.5, high=0.5)

    r = _fake(tmp_path, fn)
    ok = {c["name"]: c["ok"] for c in r.checks}
    assert ok == {"at least": True, "at most": False, "between": True, "nan": False, "edge": True}
    between = r.checks[2]
    assert between["reference"] == pytest.approx(0.8) and between["tol"] == pytest.approx(0.1)
    assert "at least: 0.6, expected >= 0.5" in r.summary()
    assert "MISS at most: 0.2, expected <= 0.1" in r.summary()
    loaded = Result.load(tmp_path / "fake.json")
    assert loaded.checks[1]["high"] == 0.1 and loaded.checks[1]["low"] is None
    table = markdown([loaded])
    assert "at least: >= 0.5" in table and "between: in [0.7, 0.9]" in table and "0.2 ✗" in table
    with pytest.raises(ValueError, match="needs low, high or both"):
        _fake(tmp_path, lambda run: run.check_bound("none", 1.0))
    with pytest.raises(ValueError, match="low 2.0 > high 1.0"):
        _fake(tmp_path, lambda run: run.check_bound("crossed", 1.0, low=2.0, high=1.0))


def test_report_says_how_to_rerun_each_experiment(tmp_path):
    r = _fake(tmp_path, lambda run: run.check("one", 1.0, 1.0, 0.0), name="ewa")
    r.seconds = 154.0
    assert rerun(r) == "`gradwise lab run ewa` (2.6 min)"
    r.quick, r.seconds = True, 3.2
    assert rerun(r) == "`gradwise lab run ewa --quick` (3 s)"
    table = markdown([r]).splitlines()
    assert table[0] == "| experiment | reference | gradwise | reproduced | plots | how to rerun |"
    assert table[2].endswith("| `gradwise lab run ewa --quick` (3 s) |")
    assert table[2].count("|") == table[0].count("|")


def test_report_cells_escape_pipes(tmp_path):
    r = _fake(tmp_path, lambda run: run.check_bound("largest |a - 0.5|", 0.03, high=0.1))
    row = markdown([r]).splitlines()[2]
    assert "largest \\|a - 0.5\\|: <= 0.1" in row
    assert row.replace("\\|", "").count("|") == 7          # six cells, seven separators


# ---- the book's batch norm: its test-time statistics, transcribed --------------------------------
class BookNet:
    """The book's MultiLayerNetExtend with use_batchnorm=True, as common/layers.py and
    common/multi_layer_net_extend.py write it, in plain NumPy (float64): Affine (W stored
    (n_prev, n)), BatchNormalization (running_mean = running_var = zeros on the first
    forward, momentum 0.9, the batch's variance np.mean(xc**2), eps 10e-7), Relu, and
    SoftmaxWithLoss; one SGD step per batch, the gradient from one training-mode forward."""

    def __init__(self, Ws):
        self.W = [W.T.astype(np.float64) for W in Ws]           # gradwise keeps (n, n_prev)
        self.b = [np.zeros(W.shape[1]) for W in self.W]
        self.gamma = [np.ones(W.shape[1]) for W in self.W[:-1]]
        self.beta = [np.zeros(W.shape[1]) for W in self.W[:-1]]
        self.running_mean = [None] * len(self.gamma)
        self.running_var = [None] * len(self.gamma)

    def batch_norm(self, l, x, train):
        if self.running_mean[l] is None:
            self.running_mean[l] = np.zeros(x.shape[1])
            self.running_var[l] = np.zeros(x.shape[1])
        if not train:
            return self.gamma[l] * (x - self.running_mean[l]) / np.sqrt(self.running_var[l] + 10e-7) \
                + self.beta[l], None
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc ** 2, axis=0)
        std = np.sqrt(var + 10e-7)
        xn = xc / std
        self.running_mean[l] = 0.9 * self.running_mean[l] + 0.1 * mu
        self.running_var[l] = 0.9 * self.running_var[l] + 0.1 * var
        return self.gamma[l] * xn + self.beta[l], (xc, xn, std)

    def forward(self, x, train):
        caches = []
        for l in range(len(self.gamma)):
            a = x
            z, bn = self.batch_norm(l, a @ self.W[l] + self.b[l], train)
            x = np.maximum(z, 0)
            caches.append((a, z, bn))
        return x @ self.W[-1] + self.b[-1], caches, x

    def step(self, x, t, lr):
        scores, caches, a_last = self.forward(x, train=True)
        y = np.exp(scores - scores.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        m = len(t)
        dout = y.copy()
        dout[np.arange(m), t] -= 1
        dout /= m
        grads = [(a_last.T @ dout, dout.sum(axis=0))]
        dx = dout @ self.W[-1].T
        bn_grads = []
        for l in reversed(range(len(self.gamma))):
            a, z, (xc, xn, std) = caches[l]
            dx = dx * (z > 0)
            dbeta, dgamma = dx.sum(axis=0), np.sum(xn * dx, axis=0)
            dxn = self.gamma[l] * dx
            dxc = dxn / std
            dstd = -np.sum((dxn * xc) / (std * std), axis=0)
            dvar = 0.5 * dstd / std
            dxc += (2.0 / m) * xc * dvar
            dx = dxc - np.sum(dxc, axis=0) / m
            grads.append((a.T @ dx, dx.sum(axis=0)))
            bn_grads.append((dgamma, dbeta))
            dx = dx @ self.W[l].T
        for l, (dW, db) in zip(reversed(range(len(self.W))), grads):
            self.W[l] -= lr * dW
            self.b[l] -= lr * db
        for l, (dgamma, dbeta) in zip(reversed(range(len(self.gamma))), bn_grads):
            self.gamma[l] -= lr * dgamma
            self.beta[l] -= lr * dbeta

    def accuracy(self, x, t):
        return float(np.mean(self.forward(x, train=False)[0].argmax(axis=1) == t))


def test_book_batch_norm_keeps_the_books_running_statistics():
    """Running mean and variance start at 0 and average in the batch's own variance."""
    gw.manual_seed(0)
    bn = BookBatchNorm1d(3)
    assert not bn.running_mean.data.any() and not bn.running_var.data.any()
    assert bn.eps == BOOK_BN_EPS and bn.momentum == 0.1
    mean, var = np.zeros(3), np.zeros(3)
    for _ in range(3):
        x = np.random.default_rng(1).normal(2.0, 0.01, size=(5, 3)).astype(np.float32)
        bn(gw.tensor(x))
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0)                     # ddof 0, as np.mean(xc**2)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-5)
    # nn.BatchNorm1d keeps PyTorch's: the variance starts at 1 and takes the unbiased one
    torch_like = nn.BatchNorm1d(3)
    assert torch_like.running_var.data.tolist() == [1.0, 1.0, 1.0]
    torch_like(gw.tensor(x))
    np.testing.assert_allclose(torch_like.running_var.data, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-5)


@needs_mnist
def test_batch_norm_experiment_early_test_mode_accuracy_is_the_books(monkeypatch):
    """The batch_norm experiment at W std 0.0022 (one of its quick scales): after each of
    the first epochs, the eval-mode accuracy of its network equals that of the book's
    BatchNormalization in NumPy started from the same weights and fed the same batches
    (in float64, exactly; the experiment's float32 within 0.02). With running statistics
    that start at PyTorch's variance 1 the first epochs sat at chance (0.12 against 0.52)."""
    from gradwise.lab.book import mnist
    from gradwise.lab.experiments.book_batch_norm import SCALES

    monkeypatch.setenv("GRADWISE_DATA", str(DATA))
    (X, y), _ = mnist(n_train=1000)
    std, epochs = float(SCALES[10]), 3
    assert round(std, 4) == 0.0022

    def ours(dtype):
        gw.set_default_dtype(dtype)
        try:
            gw.manual_seed(0)
            net = multi_layer_net([100] * 5, weight_init_std=std, batch_norm=True)
            W0 = [m.W.data.copy() for m in net if isinstance(m, nn.Linear)]
            state = gw.get_rng_state()
            curve = train_epochs({"bn": (net, optim.SGD(net.parameters(), lr=0.01))},
                                 X.astype(dtype), y, epochs, 100, {"train": (X.astype(dtype), y)},
                                 lambda it, desc=None: it)["bn"]["train"]
        finally:
            gw.set_default_dtype(np.float32)
        return curve, W0, state

    curve64, W0, state = ours(np.float64)
    gw.set_rng_state(state)                  # the same shuffled batches, by index
    loader = DataLoader((np.arange(len(y)), y), batch_size=100, shuffle=True, drop_last=True)
    book, X64, book_curve = BookNet(W0), X.astype(np.float64), []
    for _ in range(epochs):
        for idx, _labels in loader:
            book.step(X64[idx.data], y[idx.data], lr=0.01)
        book_curve.append(book.accuracy(X64, y))
    assert curve64 == book_curve, (curve64, book_curve)
    assert book_curve[0] > 0.4                                    # far above chance (0.1)
    curve32, _, _ = ours(np.float32)                              # the experiment's dtype
    np.testing.assert_allclose(curve32, book_curve, atol=0.02)


# ---- transfer learning on real MNIST: digits 0-4 -> 5-9 -----------------------------------------
@needs_mnist
def test_transfer_from_digits_0_4_to_5_9_with_ten_labels_per_digit():
    """A quick run of gradwise.lab.mnist.transfer_digits: a LeNet-5 trained on 3000 digits
    0-4 for one epoch, then reused for 5-9 with 50 labelled examples."""
    import contextlib

    from gradwise.lab.mnist import transfer_digits

    try:  # tiny matrices: BLAS threads only spin-wait on a busy machine
        from threadpoolctl import threadpool_limits
        one_thread = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn (test extra)
        one_thread = contextlib.nullcontext()
    with one_thread:
        out = transfer_digits(per_class=10, backbone_epochs=1, n_source=3000, head_epochs=50,
                              data_dir=DATA, log=lambda msg: None)
    assert out["labelled_examples"] == 50
    assert out["source_test_accuracy_0_4"] > 0.9
    for trained in ("softmax", "classifier"):
        r = out[trained]
        assert r["frozen_weights_unchanged"], trained
        assert r["missing_keys"] == ["classifier.5.W", "classifier.5.b"] and r["unexpected_keys"] == []
    # the new softmax alone learns: 84 x 5 weights and 5 biases; the rest is frozen
    assert out["softmax"]["trainable_parameters"] == 84 * 5 + 5
    assert out["softmax"]["frozen_parameters"] == out["total_parameters"] - 425
    # only the two convolutions frozen: 6 (5 5 1 + 1) + 16 (5 5 6 + 1) parameters
    assert out["classifier"]["frozen_parameters"] == 156 + 2416
    assert out["softmax"]["test_accuracy_5_9"] > 0.45           # chance: 0.2
    assert out["classifier"]["test_accuracy_5_9"] > 0.75
    assert out["scratch_test_accuracy_5_9"] > 0.5


@needs_mnist
def test_mnist_recipes_data_and_names():
    from gradwise.lab.mnist import MNIST_MEAN, MNIST_STD, RECIPES, digits, train_recipe

    (X, y), (Xt, yt) = digits(standardize=True, data_dir=DATA)
    assert X.shape == (60000, 1, 28, 28) and Xt.shape == (10000, 1, 28, 28)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert abs(float(X.mean())) < 1e-3 and abs(float(X.std()) - 1) < 1e-3   # the train statistics
    assert abs(float(X.min()) + MNIST_MEAN / MNIST_STD) < 1e-5                # the background
    assert {"simple_convnet", "lenet5", "lenet5_relu", "lenet5_shift"} <= set(RECIPES)
    for r in RECIPES.values():
        assert r.build().num_parameters() in (433_890, 61_706)
    with pytest.raises(KeyError, match="unknown recipe 'vgg'"):
        train_recipe("vgg")
