"""The training-health monitor: its numbers against hand computation, the constructed cases of
the course (vanishing, saturated/exploding, healthy), warnings, plots and fit(monitor=True)."""
import math

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim
from gradwise.datasets import make_moons
from gradwise.train import HealthMonitor, TerminateOnNaN, fit


def moons(n=512, seed=0):
    X, y = make_moons(n, noise=0.2, random_state=seed)
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32), y


def mlp(depth, width, act, scale=None, init="he_normal", n_in=2, n_out=2):
    """depth hidden layers of `width` units; scale given: W = randn * scale, b = 0 (the
    course's initialization experiments), else the named init."""
    layers, n = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(n, width, init=init), act()]
        n = width
    layers.append(nn.Linear(n, n_out, init=init))
    model = nn.Sequential(*layers)
    if scale is not None:
        for m in model:
            if isinstance(m, nn.Linear):
                m.W.data[...] = gw.backend.rng().standard_normal(m.W.shape) * scale
                m.b.data[...] = 0
    return model


def train(model, lr=0.1, epochs=3, opt="sgd", data=None, **kw):
    X, y = data or moons()
    o = optim.SGD(model.parameters(), lr=lr) if opt == "sgd" else optim.Adam(model.parameters(), lr=lr)
    mon = HealthMonitor(verbose=0)
    fit(model, F.cross_entropy, o, (X, y), epochs=epochs, batch_size=64, verbose=0, callbacks=[mon], **kw)
    return mon


# ---- the constructed cases of the issue -------------------------------------------------------
@pytest.mark.parametrize("opt, lr", [("sgd", 0.1), ("adam", 0.01)])
def test_deep_sigmoid_net_with_randn_init_is_flagged_as_vanishing(opt, lr):
    gw.manual_seed(0)
    mon = train(mlp(12, 16, nn.Sigmoid, scale=1.0), lr=lr, opt=opt)
    assert "vanishing" in mon.flagged
    w = next(w for w in mon.warnings if w.kind == "vanishing")
    assert w.layer == "0 (Linear)" and w.epoch == 0
    assert "smaller than that of 24 (Linear)" in w.message and "He initialization" in w.remedy
    g = mon.history["0 (Linear)"]["grad_norm"][0] / math.sqrt(32)       # per weight
    g_last = mon.history["24 (Linear)"]["grad_norm"][0] / math.sqrt(32)
    assert g / g_last < 1e-2


def test_tanh_net_with_randn_1000_init_is_flagged_as_saturated():
    gw.manual_seed(0)
    mon = train(mlp(4, 32, nn.Tanh, scale=1000.0))
    assert "saturated" in mon.flagged
    sat = [w for w in mon.warnings if w.kind == "saturated"]
    assert {w.layer for w in sat} == {"1 (Tanh)", "3 (Tanh)", "5 (Tanh)", "7 (Tanh)"}
    assert mon.history["3 (Tanh)"]["saturated"][0] > 0.99
    assert "normalize the inputs" in sat[0].remedy


def test_relu_net_with_randn_1000_init_is_flagged_as_exploding():
    gw.manual_seed(0)
    mon = train(mlp(4, 32, nn.ReLU, scale=1000.0), lr=0.01, opt="adam")
    assert "exploding" in mon.flagged
    w = next(w for w in mon.warnings if w.kind == "exploding")
    assert "activations explode" in w.message and "gradient clipping" in w.remedy
    stds = [h["std"][0] for h in mon.history.values() if "std" in h]
    assert stds[-1] / stds[0] > 1e3


def test_a_diverging_run_is_flagged_even_when_fit_raises():
    # plain SGD on the randn * 1000 ReLU net: the second batch's loss is NaN and fit raises;
    # the monitor closes the epoch at that batch, keeps its finding and removes its hooks
    gw.manual_seed(0)
    model = mlp(4, 32, nn.ReLU, scale=1000.0)
    mon = HealthMonitor(verbose=0)
    X, y = moons()
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
            batch_size=64, verbose=0, monitor=mon)
    assert "exploding" in mon.flagged
    assert any(w.layer == "loss" and "diverged" in w.message for w in mon.warnings)
    assert all(not m._forward_hooks for m in model.modules())


def test_nan_stop_still_reports_the_partial_epoch():
    gw.manual_seed(0)
    model = mlp(4, 32, nn.ReLU, scale=1000.0)
    X, y = moons()
    with np.errstate(all="ignore"):
        h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
                batch_size=64, verbose=0, monitor=True, callbacks=[TerminateOnNaN()])
    assert h.history == {} and h.monitor.epochs == [0]
    assert "exploding" in h.monitor.flagged


@pytest.mark.parametrize("depth, width, opt, lr", [(3, 16, "sgd", 0.1), (6, 32, "sgd", 0.1),
                                                   (10, 64, "adam", 0.01)])
def test_he_initialized_relu_net_is_not_flagged(depth, width, opt, lr):
    gw.manual_seed(0)
    mon = train(mlp(depth, width, nn.ReLU, init="he_normal"), lr=lr, opt=opt, epochs=5)
    assert mon.warnings == [], [str(w) for w in mon.warnings]
    assert "No warnings" in mon.report()


def test_xavier_tanh_net_is_not_flagged():
    gw.manual_seed(0)
    mon = train(mlp(6, 32, nn.Tanh, init="xavier_course"), epochs=5)
    assert mon.warnings == []


# ---- the numbers, by hand --------------------------------------------------------------------
def test_grad_norm_update_ratio_and_output_stats_match_hand_computation():
    gw.manual_seed(1)
    X, y = moons(128)
    model = mlp(1, 8, nn.Sigmoid, init="xavier_normal")
    W0 = [m.W.data.copy() for m in model if isinstance(m, nn.Linear)]
    b0 = model[0].b.data.copy()
    lr = 0.5
    mon = HealthMonitor(verbose=0)
    # one full batch, one epoch: the monitor sees exactly one forward, one backward, one step
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=lr), (X, y), epochs=1,
        batch_size=len(X), verbose=0, callbacks=[mon])
    W1 = [m.W.data for m in model if isinstance(m, nn.Linear)]
    for name, before, after in zip(["0 (Linear)", "2 (Linear)"], W0, W1):
        dW = (before - after) / lr  # plain SGD: W1 = W0 - lr dW
        h = mon.history[name]
        assert h["grad_norm"][0] == pytest.approx(np.linalg.norm(dW), rel=1e-4)
        assert h["update_ratio"][0] == pytest.approx(np.linalg.norm(after - before) / np.linalg.norm(before), rel=1e-4)
        assert h["weight_norm"][0] == pytest.approx(np.linalg.norm(after), rel=1e-5)
    Z = X.astype(np.float64) @ W0[0].T.astype(np.float64) + b0
    A = 1 / (1 + np.exp(-Z))
    assert mon.history["0 (Linear)"]["mean"][0] == pytest.approx(Z.mean(), rel=1e-4, abs=1e-6)
    assert mon.history["0 (Linear)"]["std"][0] == pytest.approx(Z.std(), rel=1e-4)
    assert mon.history["1 (Sigmoid)"]["mean"][0] == pytest.approx(A.mean(), rel=1e-4)
    assert mon.history["1 (Sigmoid)"]["std"][0] == pytest.approx(A.std(), rel=1e-4)
    assert mon.layers == ["0 (Linear)", "1 (Sigmoid)", "2 (Linear)"]


class Fixed(nn.Module):
    """A first layer whose outputs are set by hand (row i of Z for the input whose first
    feature is i), then a trainable head."""

    def __init__(self, act, Z):
        super().__init__()
        self.Z = Z
        self.act = act
        self.head = nn.Linear(Z.shape[1], 2)

    def forward(self, X):
        rows = X.data[:, 0].astype(np.int64)
        return self.head(self.act(gw.tensor(self.Z[rows])))


def rows(n):
    return np.c_[np.arange(n), np.zeros(n)].astype(np.float32), np.arange(n) % 2


def test_saturated_fraction_counts_local_gradients_below_1e_3():
    # sigmoid'(z) < 1e-3 exactly when |z| > 6.906: 3 of the 8 values of each row are beyond it
    z = np.array([0.0, 1.0, -3.0, 6.0, 6.8, 7.0, -9.0, 20.0], dtype=np.float32)
    Z = np.tile(z, (16, 1))
    X, y = rows(16)
    mon = HealthMonitor(verbose=0)
    model = Fixed(nn.Sigmoid(), Z)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
        batch_size=16, verbose=0, callbacks=[mon])
    assert mon.history["act (Sigmoid)"]["saturated"] == [3 / 8]
    # tanh'(z) = 1 - tanh^2 < 1e-3 when |z| > 3.8: 5 of 8
    mon = HealthMonitor(verbose=0)
    model = Fixed(nn.Tanh(), Z)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
        batch_size=16, verbose=0, callbacks=[mon])
    assert mon.history["act (Tanh)"]["saturated"] == [5 / 8]


def test_dead_relu_fraction_is_units_never_active_in_the_epoch():
    # of 6 units: 2 are negative for every example (dead), 1 is positive for one example only
    # (alive), the rest are positive often
    Z = np.random.default_rng(0).uniform(0.5, 1.0, (40, 6)).astype(np.float32)
    Z[:, 0] = -1.0
    Z[:, 3] = -0.1
    Z[:, 5] = -2.0
    Z[17, 5] = 0.3
    X, y = rows(40)
    model = Fixed(nn.ReLU(), Z)
    mon = HealthMonitor(verbose=0, dead=0.3)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
        batch_size=8, shuffle=False, verbose=0, callbacks=[mon])
    assert mon.history["act (ReLU)"]["dead"] == [pytest.approx(2 / 6)]
    w = next(w for w in mon.warnings if w.kind == "dead")
    assert w.layer == "act (ReLU)" and "33% of the units" in w.message and "Leaky ReLU" in w.remedy


def test_validation_forward_passes_are_not_counted():
    gw.manual_seed(0)
    X, y = moons(128)
    model = mlp(1, 8, nn.ReLU)
    W0, b0 = model[0].W.data.copy(), model[0].b.data.copy()
    mon = HealthMonitor(verbose=0)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=1e-9), (X, y),
        val_data=(X * 1000, y), epochs=1, batch_size=len(X), verbose=0, callbacks=[mon])
    Z = X @ W0.T + b0
    assert mon.history["0 (Linear)"]["mean"][0] == pytest.approx(float(Z.mean()), rel=1e-4, abs=1e-6)


def test_every_measures_a_sample_of_batches():
    from gradwise.train import Callback

    class Probe(Callback):  # runs before the monitor closes the epoch: reads its counts
        counts = []

        def on_epoch_end(self, epoch, logs=None):
            layer = mon._layers[0]
            self.counts.append((layer.n_grad, layer.n_out))

    gw.manual_seed(0)
    X, y = moons(256)
    model = mlp(2, 16, nn.ReLU)
    mon = HealthMonitor(every=3, verbose=0)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
        batch_size=32, verbose=0, callbacks=[Probe(), mon])
    # 8 batches an epoch, every third measured: batches 0, 3 and 6, 32 examples x 16 units each
    assert Probe.counts == [(3, 3 * 32 * 16)] * 2
    assert len(mon.history["0 (Linear)"]["grad_norm"]) == 2


# ---- fit(monitor=True), report, plot, hooks ----------------------------------------------------
def test_fit_monitor_option_report_and_plot(tmp_path, capsys):
    gw.manual_seed(0)
    X, y = moons(256)
    model = mlp(12, 16, nn.Sigmoid, scale=1.0)
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
            batch_size=64, verbose=0, monitor=True)
    mon = h.monitor
    assert isinstance(mon, HealthMonitor) and mon.epochs == [0, 1]
    assert "HealthMonitor: epoch 1: gradients vanish" in capsys.readouterr().out  # verbose=1 prints
    text = mon.report()
    assert "0 (Linear)" in text and "grad_norm" in text and "gradients vanish" in text
    path = mon.plot(tmp_path / "health.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(not m._forward_hooks for m in model.modules())  # hooks gone after fit
    h2 = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
             batch_size=64, verbose=0)
    assert not hasattr(h2, "monitor")


def test_hooks_are_removed_when_fit_fails():
    gw.manual_seed(0)
    model = mlp(1, 4, nn.ReLU)
    with pytest.raises(ValueError, match="label 5 is outside"):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1),
            (np.zeros((8, 2), np.float32), np.full(8, 5)), verbose=0, monitor=True)
    assert all(not m._forward_hooks for m in model.modules())


def test_bad_arguments_and_nothing_to_watch():
    with pytest.raises(ValueError, match="every must be a positive integer"):
        HealthMonitor(every=0)
    with pytest.raises(ValueError, match="saturation must be in"):
        HealthMonitor(saturation=1.5)
    with pytest.raises(ValueError, match="update_low < update_high"):
        HealthMonitor(update_low=1.0, update_high=0.1)

    class Bare(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones(2, np.float32))

        def forward(self, X):
            return X * self.w

    model = Bare()
    with pytest.raises(ValueError, match="Bare has no layer to watch"):
        fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.1),
            (np.ones((4, 2), np.float32), np.ones((4, 2), np.float32)), verbose=0, metrics=(),
            monitor=True)
    assert HealthMonitor().report().startswith("HealthMonitor: no epoch")
    with pytest.raises(ValueError, match="no epoch recorded"):
        HealthMonitor().plot("x.png")


def test_learning_rate_warnings():
    gw.manual_seed(0)
    mon = train(mlp(2, 16, nn.ReLU), lr=1e-9, epochs=1)
    assert mon.flagged == {"lr_low"}
    assert "too low" in mon.warnings[0].message and "raise the learning rate" in str(mon.warnings[0])
    gw.manual_seed(0)
    mon = train(mlp(2, 16, nn.ReLU), lr=5.0, epochs=1)
    assert "lr_high" in mon.flagged
