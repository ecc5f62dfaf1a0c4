"""gradwise.train: fit/evaluate/predict, callbacks, history, checkpoints and exact resume."""
import csv
import functools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim
from gradwise.data import DataLoader
from gradwise.optim import lr_scheduler
from gradwise.train import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ProgressBar,
    TerminateOnNaN,
    evaluate,
    fit,
    load_checkpoint,
    predict,
    save_checkpoint,
)

SRC = Path(__file__).resolve().parents[1] / "src"

# The data and model of the resume test, shared verbatim with the subprocess that resumes.
SETUP = textwrap.dedent("""
    import numpy as np
    import gradwise as gw
    import gradwise.functional as F
    from gradwise import nn, optim
    from gradwise.optim import lr_scheduler

    def make_moons(n=1000, noise=0.1, seed=0):
        '''Two interleaving half circles (the classic toy set), labels 0 and 1.'''
        rng = np.random.default_rng(seed)
        n0 = n // 2
        t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n - n0)
        X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)],
                            np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
        X += rng.normal(0.0, noise, X.shape)
        y = np.concatenate([np.zeros(n0), np.ones(n - n0)]).astype(np.int64)
        return X.astype(np.float32), y

    def make_run():
        model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                              nn.Linear(16, 2))
        opt = optim.Adam(model.parameters(), lr=0.02)
        sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        return model, opt, sched

    X, y = make_moons(300, seed=1)
    KW = dict(batch_size=32, shuffle=True, verbose=0, metrics=("accuracy",))
""")
_ns = {}
exec(SETUP, _ns)
make_moons = _ns["make_moons"]


def mlp(hidden=32, out=2):
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, out))


def params(model):
    return [p.data.copy() for p in model.parameters()]


class Snapshots(Callback):
    """Records the model's weights at the end of every epoch."""

    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.state_dict())


class Script(Callback):
    """Overwrites a log value with a scripted sequence (put it before the callback under test)."""

    def __init__(self, key, values):
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


# ---- learning ------------------------------------------------------------------------------
def test_two_moons_reaches_95_percent():
    X, y = make_moons(1000, noise=0.1, seed=0)
    Xv, yv = make_moons(400, noise=0.1, seed=1)
    gw.manual_seed(0)
    model = mlp()
    h = fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.01), (X, y),
            val_data=(Xv, yv), epochs=30, batch_size=32, verbose=0, seed=0)
    assert h.history["val_accuracy"][-1] >= 0.95
    assert h.history["loss"][-1] < h.history["loss"][0] / 3
    result = evaluate(model, F.cross_entropy, (Xv, yv), batch_size=64)
    assert result["accuracy"] >= 0.95
    assert result["accuracy"] == pytest.approx(h.history["val_accuracy"][-1])
    out = predict(model, Xv, batch_size=64)
    assert out.shape == (400, 2) and isinstance(out, np.ndarray)
    assert np.mean(out.argmax(1) == yv) == pytest.approx(result["accuracy"])


def test_history_keys_and_training_metrics_match_evaluate():
    X, y = make_moons(200, seed=2)
    gw.manual_seed(0)
    model = mlp()
    # lr = 0: the weights do not move, so the epoch's running metrics equal a fresh evaluate
    opt = optim.SGD(model.parameters(), lr=0.0)
    h = fit(model, F.cross_entropy, opt, (X, y), val_data=(X, y), epochs=3, batch_size=64,
            metrics=["accuracy", "f1", "precision", "recall"], verbose=0)
    assert set(h.history) == {"loss", "accuracy", "f1", "precision", "recall", "val_loss",
                              "val_accuracy", "val_f1", "val_precision", "val_recall", "lr"}
    assert h.epoch == [0, 1, 2] and all(len(v) == 3 for v in h.history.values())
    ref = evaluate(model, F.cross_entropy, (X, y), metrics=["accuracy", "f1", "precision", "recall"])
    for k, v in ref.items():
        assert h.history[k][-1] == pytest.approx(v, rel=1e-6)
        assert h.history["val_" + k][-1] == pytest.approx(v, rel=1e-6)
    assert h["lr"] == [0.0, 0.0, 0.0]


def test_metric_functions_and_dict_names():
    X, y = make_moons(100, seed=3)
    model = mlp()

    def error_rate(y_true, y_pred):
        return float(np.mean(y_pred.argmax(1) != y_true))

    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.0), (X, y), epochs=1,
            batch_size=30, metrics={"err": error_rate, "acc": "accuracy"}, verbose=0)
    assert h["err"][0] == pytest.approx(1 - h["accuracy"][0])
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.0), (X, y), metrics=["auc"],
            verbose=0)


def _one_score_model(activation=None):
    """z = x: one score per example, equal to the input (the weights are fixed)."""
    layers = [nn.Linear(1, 1)] + ([activation] if activation is not None else [])
    model = nn.Sequential(*layers)
    model[0].W.data[...] = 1.0
    model[0].b.data[...] = 0.0
    return model


def test_one_score_outputs_are_thresholded_as_logits_or_probabilities():
    # positives have logits in (0, 0.5): a 0.5 threshold would call them all negative
    X = np.array([[0.1], [0.2], [0.3], [0.4], [-0.1], [-0.2], [-0.3], [-0.4]], np.float32)
    y = np.array([[1], [1], [1], [1], [0], [0], [0], [0]], np.float32)
    logits = _one_score_model()
    for loss in (F.binary_cross_entropy_with_logits,
                 functools.partial(F.binary_cross_entropy_with_logits, reduction="mean")):
        assert evaluate(logits, loss, (X, y))["accuracy"] == 1.0
    h = fit(logits, F.binary_cross_entropy_with_logits, optim.SGD(logits.parameters(), lr=0.0),
            (X, y), val_data=(X, y), epochs=1, batch_size=3, metrics=["accuracy", "recall"],
            verbose=0)
    assert h["accuracy"] == [1.0] and h["val_accuracy"] == [1.0] and h["recall"] == [1.0]
    # the same scores said to be probabilities: only the 0.5 threshold applies
    assert evaluate(logits, F.binary_cross_entropy_with_logits, (X, y),
                    from_logits=False)["accuracy"] == 0.5
    # binary_cross_entropy reads probabilities: sigmoid(x) > 0.5 exactly when x > 0
    probs = _one_score_model(nn.Sigmoid())
    assert evaluate(probs, F.binary_cross_entropy, (X, y))["accuracy"] == 1.0
    assert evaluate(probs, F.binary_cross_entropy, (X, y), from_logits=True)["accuracy"] == 0.5

    # a loss gradwise does not know: the user says what the scores are, or gets a clear error
    def my_loss(out, target):
        return F.binary_cross_entropy_with_logits(out, target)

    assert evaluate(logits, my_loss, (X, y), from_logits=True)["accuracy"] == 1.0
    assert evaluate(logits, my_loss, (X, y), metrics=())["loss"] > 0
    with pytest.raises(ValueError, match=r"evaluate: .*one score per example \(outputs \(3, 1\)\) "
                                         r"and loss_fn my_loss .*from_logits=True"):
        evaluate(logits, my_loss, (X, y), batch_size=3)
    logits[0].b.data[...] = 0.25
    before = params(logits)
    with pytest.raises(ValueError, match=r"fit: .*loss_fn my_loss .*from_logits"):
        fit(logits, my_loss, optim.SGD(logits.parameters(), lr=0.1), (X, y), verbose=0)
    for a, b in zip(before, params(logits)):
        assert np.array_equal(a, b)  # raised before the first update
    with pytest.raises(TypeError, match="from_logits must be True, False or None"):
        evaluate(logits, my_loss, (X, y), from_logits="yes")


def test_array_fast_path_equals_a_shuffling_dataloader():
    X, y = make_moons(250, seed=4)
    runs = []
    for data in ((X, y), DataLoader((X, y), batch_size=32, shuffle=True)):
        gw.manual_seed(7)
        model = mlp(8)
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), data, epochs=2,
            verbose=0)  # the arrays in fit's default batches of 32
        runs.append(params(model))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_float64_data_is_cast_and_the_last_small_batch_is_kept():
    X, y = make_moons(70, seed=5)
    sizes = []

    class Sizes(Callback):
        def on_batch_end(self, batch, logs=None):
            sizes.append(logs["size"])

    model = mlp(4)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X.astype(np.float64), y),
        epochs=1, batch_size=32, callbacks=[Sizes()], verbose=0)
    assert sizes == [32, 32, 6]


# ---- callbacks -----------------------------------------------------------------------------
def test_early_stopping_semantics_and_restore_best_weights():
    X, y = make_moons(100, seed=6)
    gw.manual_seed(0)
    model = mlp(8)
    snaps = Snapshots()
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    scripted = Script("val_loss", [1.0, 0.5, 0.6, 0.55, 0.4, 0.3])
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y),
            val_data=(X, y), epochs=6, callbacks=[scripted, snaps, es], verbose=0)
    # best at epoch 1; epochs 2 and 3 do not improve: patience 2 runs out at epoch 3
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3 and es.best_epoch == 1
    assert h["val_loss"] == [1.0, 0.5, 0.6, 0.55]
    for k, v in model.state_dict().items():
        assert np.array_equal(v, snaps.weights[1][k])
    assert not np.array_equal(snaps.weights[3]["0.W"], snaps.weights[1]["0.W"])


def test_early_stopping_min_delta_and_max_mode():
    X, y = make_moons(60, seed=7)
    model = mlp(4)
    # improvements smaller than min_delta do not count
    es = EarlyStopping(monitor="loss", patience=1, min_delta=0.1)
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=5,
            callbacks=[Script("loss", [1.0, 0.95, 0.92, 0.5, 0.1]), es], verbose=0)
    assert h.epoch == [0, 1] and es.stopped_epoch == 1
    # 'auto' maximizes accuracy-like quantities
    es = EarlyStopping(monitor="val_accuracy", patience=1)
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), val_data=(X, y),
            epochs=5, callbacks=[Script("val_accuracy", [0.5, 0.7, 0.6, 0.9, 0.95]), es], verbose=0)
    assert h.epoch == [0, 1, 2] and es.best == 0.7
    with pytest.raises(ValueError, match="'val_loss' will never be in the epoch logs"):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y),
            callbacks=[EarlyStopping()], verbose=0)
    # a warm-up: epochs before start_from_epoch are not monitored (0.1 at epoch 0 is ignored)
    es = EarlyStopping(monitor="loss", patience=1, start_from_epoch=2)
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=6,
            callbacks=[Script("loss", [0.1, 0.9, 0.8, 0.7, 0.75, 0.6]), es], verbose=0)
    assert h.epoch == [0, 1, 2, 3, 4] and es.best == 0.7 and es.best_epoch == 3
    # with a baseline, the wait restarts only on values that also beat the baseline: the
    # first setback after two epochs above 0.5 stops the run (without one, it goes on)
    seq = [0.9, 0.8, 0.85, 0.4, 0.3, 0.2]
    for baseline, epochs in [(0.5, [0, 1, 2]), (None, list(range(6)))]:
        es = EarlyStopping(monitor="loss", patience=2, baseline=baseline)
        h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=6,
                callbacks=[Script("loss", seq), es], verbose=0)
        assert h.epoch == epochs


def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    X, y = make_moons(80, seed=8)
    gw.manual_seed(0)
    model = mlp(8)
    opt = optim.SGD(model.parameters(), lr=0.1)
    snaps = Snapshots()
    ck = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.npz", monitor="val_loss", save_best_only=True)
    fit(model, F.cross_entropy, opt, (X, y), val_data=(X, y), epochs=5, verbose=0,
        callbacks=[Script("val_loss", [1.0, 0.5, 0.6, 0.4, 0.45]), snaps, ck])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.npz", "ckpt-02.npz", "ckpt-04.npz"]
    fresh = mlp(8)
    epoch = load_checkpoint(tmp_path / "ckpt-04.npz", fresh, optim.SGD(fresh.parameters(), lr=0.1))
    assert epoch == 4
    for k, v in fresh.state_dict().items():
        assert np.array_equal(v, snaps.weights[3][k])
    # one fixed path: rewritten on improvement only, so it ends holding epoch 4 (0-based 3)
    ck = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)
    fit(model, F.cross_entropy, opt, (X, y), val_data=(X, y), epochs=5, verbose=0,
        callbacks=[Script("val_loss", [1.0, 0.5, 0.6, 0.4, 0.45]), ck])
    assert len(ck.saved) == 3 and gw.load(tmp_path / "best.npz")["epoch"] == 4


def test_log_keys_that_will_never_exist_fail_before_training(tmp_path):
    X, y = make_moons(60, seed=7)
    model = mlp(4)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = params(model)
    no_val = [
        (ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.npz"),
         r"ModelCheckpoint: the path field \{val_loss\} 'val_loss' will never be in the epoch "
         r"logs, which hold \['accuracy', 'loss', 'lr'\] \(val_ values are logged only with "
         r"val_data\)"),
        (ModelCheckpoint(tmp_path / "best.npz", save_best_only=True),
         "ModelCheckpoint: the monitored value 'val_loss' will never"),
        (EarlyStopping(monitor="val_loss"), "EarlyStopping: the monitored value 'val_loss'"),
    ]
    for cb, message in no_val:
        with pytest.raises(ValueError, match=message):
            fit(model, F.cross_entropy, opt, (X, y), epochs=2, callbacks=[cb], verbose=0)
    # with val_data: the metric names fit logs ('accuracy', not 'acc')
    with pytest.raises(ValueError, match=r"'val_acc' will never .*'val_accuracy'"):
        fit(model, F.cross_entropy, opt, (X, y), val_data=(X, y), metrics=["acc"],
            callbacks=[EarlyStopping(monitor="val_acc")], verbose=0)
    with pytest.raises(ValueError, match=r"'f1' will never"):
        fit(model, F.cross_entropy, opt, (X, y), callbacks=[EarlyStopping(monitor="f1")], verbose=0)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau\(mode='max'\) would be stepped with "
                                         r"loss \(there is no val_data\)"):
        fit(model, F.cross_entropy, opt, (X, y),
            scheduler=lr_scheduler.ReduceLROnPlateau(opt, mode="max"), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, params(model)))  # nothing trained
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match=r"positional field \{\}"):
        ModelCheckpoint(tmp_path / "ckpt-{}.npz")

    # a callback of the user's may log keys of its own: the ones after it read them
    class Score(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = -epoch

    ck = ModelCheckpoint(tmp_path / "ckpt-{score}.npz", monitor="score", save_best_only=True,
                         mode="max")
    fit(model, F.cross_entropy, opt, (X, y), epochs=2, callbacks=[Score(), ck], verbose=0)
    assert os.listdir(tmp_path) == ["ckpt-0.npz"]
    # ... and one that does not is still named when it is read
    ck = ModelCheckpoint(tmp_path / "ckpt-{nothing}.npz")
    with pytest.raises(KeyError, match=r"path fields \['nothing'\] are not in the epoch logs"):
        fit(model, F.cross_entropy, opt, (X, y), epochs=1, callbacks=[Score(), ck], verbose=0)


def test_a_float64_dataloader_is_cast_to_the_models_dtype_as_arrays_are():
    X, y = make_moons(70, seed=5)
    X64 = X.astype(np.float64)
    runs = []
    batches = [(X64[:40], y[:40]), (X64[40:], y[40:])]
    for data in ((X64, y), DataLoader((X64, y), batch_size=16), batches,
                 DataLoader((gw.tensor(X64), y), batch_size=16)):
        gw.manual_seed(7)
        model = mlp(8)
        cut = {"batch_size": 16} if isinstance(data, tuple) else {}  # a loader batches itself
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), data, epochs=2,
            verbose=0, **cut, **({"shuffle": False} if cut else {}))
        assert all(p.dtype == np.float32 for p in model.parameters())
        runs.append((params(model), evaluate(model, F.cross_entropy, data, **cut),
                     predict(model, data if not isinstance(data, tuple) else data[0])))
        assert runs[-1][2].dtype == np.float32
    for weights, ev, out in runs[1:2] + runs[3:]:  # the same batches as the arrays: the same run
        assert all(np.array_equal(a, b) for a, b in zip(weights, runs[0][0]))
        assert ev == runs[0][1] and np.array_equal(out, runs[0][2])


def test_nan_loss_names_epoch_and_batch():
    X, y = make_moons(100, seed=9)  # 4 batches of 25 per epoch
    calls = {"n": 0}

    def poisoned(out, target):
        calls["n"] += 1
        loss = F.cross_entropy(out, target)
        return loss * float("nan") if calls["n"] == 4 + 3 else loss  # epoch 1, batch 2

    model = mlp(8)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 2"):
        fit(model, poisoned, opt, (X, y), epochs=3, batch_size=25, verbose=0)

    calls["n"] = 0
    stop = TerminateOnNaN()
    h = fit(model, poisoned, opt, (X, y), epochs=3, batch_size=25, callbacks=[stop], verbose=0)
    assert (stop.epoch, stop.batch) == (1, 2)
    assert "epoch 1, batch 2" in stop.message
    assert h.epoch == [0]  # the broken epoch is not recorded
    assert all(np.isfinite(p).all() for p in params(model))  # no update with a NaN gradient


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way
def test_a_diverging_run_is_reported():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X @ np.array([[3.0], [-2.0]], dtype=np.float32)) * 100
    model = nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 1))
    with pytest.raises(FloatingPointError, match=r"loss became (nan|inf) at epoch \d+, batch \d+"):
        fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=1e6), (X, y), epochs=20,
            batch_size=16, metrics=(), verbose=0)


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    X, y = make_moons(90, seed=10)
    model = mlp(8)
    path = tmp_path / "log.csv"
    path.write_text("stale\n")
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y),
            val_data=(X, y), epochs=3, callbacks=[CSVLogger(path)], verbose=0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert len(rows) == 4
    for e, row in enumerate(rows[1:]):
        assert int(row[0]) == e
        for key, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == h[key][e]  # written with full precision


def test_the_lr_is_scheduled_one_way_by_a_scheduler_fit_steps_per_epoch():
    X, y = make_moons(64, seed=11)
    model = mlp(4)
    opt = optim.SGD(model.parameters(), lr=0.4)
    h = fit(model, F.cross_entropy, opt, (X, y), epochs=3, verbose=0,
            scheduler=lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    assert h["lr"] == pytest.approx([0.4, 0.2, 0.1]) and opt.lr == pytest.approx(0.05)
    # a function of the epoch (what Keras' LearningRateScheduler took) is a LambdaLR
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, F.cross_entropy, opt, (X, y), epochs=3, verbose=0,
            scheduler=lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch))
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025])
    # and no second way: no callback sets the lr, no get_lr/set_lr beside optimizer.lr
    import gradwise.train as T
    for name in ("LearningRateScheduler", "get_lr", "set_lr"):
        assert not hasattr(T, name) and not hasattr(T.callbacks, name)


def test_reduce_lr_on_plateau_is_stepped_with_the_validation_loss():
    X, y = make_moons(64, seed=12)
    model = mlp(8)
    opt = optim.SGD(model.parameters(), lr=0.5)
    seen = []

    class Spy(lr_scheduler.ReduceLROnPlateau):
        def step(self, metric, *args, **kwargs):
            seen.append(metric)
            return super().step(metric, *args, **kwargs)

    h = fit(model, F.cross_entropy, opt, (X, y), val_data=(X[:20], 1 - y[:20]), epochs=3,
            scheduler=Spy(opt, factor=0.5, patience=0), verbose=0)
    assert seen == h["val_loss"]


def test_progress_output(capsys):
    X, y = make_moons(64, seed=13)
    model = mlp(4)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("Epoch 2/2 - ") and "loss: " in out[1]
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
        callbacks=[ProgressBar(verbose=1, interval=0.0)], verbose=1)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err and "accuracy" in err
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_errors_are_clear():
    X, y = make_moons(40, seed=14)
    model = mlp(4)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="label 5 is outside"):
        fit(model, F.cross_entropy, opt, (X, np.where(y == 1, 5, 0)), verbose=0)
    # a bad label anywhere in the data fails at the first batch, before any update
    bad = y.copy()
    bad[-1] = 2
    before = params(model)
    with pytest.raises(ValueError, match=r"train_data: label 2 is outside \[0, 2\) \(example 39"):
        fit(model, F.cross_entropy, opt, (X, bad), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"val_data: label -1 is outside \[0, 2\)"):
        fit(model, F.cross_entropy, opt, (X, y), val_data=(X, np.where(y == 1, -1, 0)),
            batch_size=4, verbose=0)
    for a, b in zip(before, params(model)):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="40 examples but y has 39"):
        fit(model, F.cross_entropy, opt, (X, y[:-1]), verbose=0)
    with pytest.raises(ValueError, match="empty"):
        fit(model, F.cross_entropy, opt, (X[:0], y[:0]), verbose=0)
    with pytest.raises(TypeError, match="one-shot iterator"):
        fit(model, F.cross_entropy, opt, iter([(X, y)]), verbose=0)


def test_batch_size_and_shuffle_with_a_dataloader_are_refused_naming_them():
    X, y = make_moons(40, seed=14)
    model = mlp(4)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader((X, y), batch_size=8, shuffle=True)
    before = params(model)
    with pytest.raises(ValueError, match=r"fit: shuffle=False orders \(X, y\) arrays.*DataLoader"):
        fit(model, F.cross_entropy, opt, loader, shuffle=False, verbose=0)
    with pytest.raises(ValueError, match=r"fit: batch_size=16 cuts in-memory arrays.*DataLoader"):
        fit(model, F.cross_entropy, opt, loader, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"fit: batch_size=16 .*list"):
        fit(model, F.cross_entropy, opt, [(X, y)], val_data=loader, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: batch_size=16"):
        evaluate(model, F.cross_entropy, loader, batch_size=16)
    with pytest.raises(ValueError, match=r"predict: batch_size=16"):
        predict(model, loader, batch_size=16)
    assert all(np.array_equal(a, b) for a, b in zip(before, params(model)))  # nothing trained
    # where they apply they are taken: batch_size cuts the val_data arrays of a loader run
    fit(model, F.cross_entropy, opt, loader, val_data=(X, y), batch_size=16, verbose=0)
    fit(model, F.cross_entropy, opt, loader, verbose=0)  # not given: nothing to refuse


class Closes(Callback):
    """Records the hooks it saw, and whether on_train_end ran."""

    def __init__(self, fail_in=None):
        self.seen, self.fail_in = [], fail_in

    def on_train_begin(self, logs=None):
        self.seen.append("begin")

    def on_epoch_end(self, epoch, logs=None):
        if self.fail_in == "on_epoch_end":
            raise KeyboardInterrupt

    def on_train_end(self, logs=None):
        self.seen.append("end")
        if self.fail_in == "on_train_end":
            raise RuntimeError("a callback failed while closing")


def test_on_train_end_runs_on_every_callback_when_fit_raises():
    X, y = make_moons(40, seed=16)
    model = mlp(4)
    opt = optim.SGD(model.parameters(), lr=0.1)
    # a NaN loss raises in the first batch: every callback that began still ends
    first, bar = Closes(), ProgressBar(verbose=1, interval=0.0)
    with pytest.raises(FloatingPointError):
        fit(model, lambda out, t: F.cross_entropy(out, t) * float("nan"), opt, (X, y),
            callbacks=[bar, first], monitor=True, verbose=0)
    assert first.seen == ["begin", "end"] and bar.bar is None  # the bar was closed
    assert all(not m._forward_hooks for m in model.modules())  # the monitor's hooks removed
    # a KeyboardInterrupt in one callback, and a second failure while closing: the callbacks
    # after the failing one still close; the interrupt stays in the chain of the error
    a, b, c = Closes(), Closes(fail_in="on_train_end"), Closes()
    with pytest.raises(RuntimeError, match="while closing") as raised:
        fit(model, F.cross_entropy, opt, (X, y), epochs=2, verbose=0,
            callbacks=[Closes(fail_in="on_epoch_end"), a, b, c])
    assert isinstance(raised.value.__context__, KeyboardInterrupt)
    assert a.seen == b.seen == c.seen == ["begin", "end"]
    # a callback that fails to begin: those begun end, those after it never began
    late = Closes()
    with pytest.raises(ValueError, match="OwnShuffle"):
        fit(model, F.cross_entropy, opt, OwnShuffle(X, y, 0), verbose=0,
            callbacks=[a, ModelCheckpoint("unused.npz"), late])
    assert a.seen[-2:] == ["begin", "end"] and late.seen == []


def test_callback_list_calls_each_hook_on_every_callback_in_order():
    calls = []

    class Named(Callback):
        def __init__(self, name):
            self.name = name

        def on_epoch_end(self, epoch, logs=None):
            calls.append((self.name, epoch))

    cbs = CallbackList([Named("a"), Named("b")], trainer=type("T", (), {"model": None})())
    cbs.on_train_begin()
    cbs.on_epoch_end(3)
    cbs.on_batch_end(0)  # neither overrides it: nothing to call
    cbs.on_train_end()
    assert calls == [("a", 3), ("b", 3)]


def test_evaluate_and_predict_restore_each_module_mode():
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    model.train()
    model[1].eval()  # a mixed state, as when freezing part of a network
    X, y = make_moons(20, seed=15)
    evaluate(model, F.cross_entropy, (X, y))
    predict(model, X)
    assert [m.training for m in model.modules()] == [True, True, False, True]
    a, b = predict(model, X, batch_size=7), predict(model, DataLoader((X, y), batch_size=5))
    assert np.array_equal(a, b)  # eval mode: dropout off, batches concatenated in order


# ---- checkpoints and exact resume -----------------------------------------------------------
def test_save_and_load_checkpoint_restore_everything(tmp_path):
    gw.manual_seed(3)
    model, opt, sched = _ns["make_run"]()
    fit(model, F.cross_entropy, opt, (_ns["X"], _ns["y"]), epochs=2, scheduler=sched, verbose=0)
    save_checkpoint(tmp_path / "c.npz", model, opt, sched, epoch=2, note="hello")
    draws = gw.rand(3).data
    ckpt = gw.load(tmp_path / "c.npz")
    assert ckpt["epoch"] == 2 and ckpt["note"] == "hello"

    m2, o2, s2 = _ns["make_run"]()
    assert load_checkpoint(tmp_path / "c.npz", m2, o2, s2) == 2
    np.testing.assert_array_equal(gw.rand(3).data, draws)  # the generator was restored
    for (k, v), (k2, v2) in zip(model.state_dict().items(), m2.state_dict().items()):
        assert k == k2 and np.array_equal(v, v2)
    assert o2.lr == opt.lr and s2.get_last_lr() == sched.get_last_lr()
    with pytest.raises(ValueError, match="clash"):
        save_checkpoint(tmp_path / "d.npz", model, opt, epoch=1, rng=0)
    gw.save(model.state_dict(), tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "weights.npz", m2)


def test_load_checkpoint_is_all_or_nothing(tmp_path):
    gw.manual_seed(3)
    model, opt, sched = _ns["make_run"]()  # Adam and StepLR
    fit(model, F.cross_entropy, opt, (_ns["X"], _ns["y"]), epochs=1, scheduler=sched, verbose=0)
    save_checkpoint(tmp_path / "adam.npz", model, opt, sched, epoch=1)

    def fresh(make_opt=None, make_sched=None):
        gw.manual_seed(4)
        m, o, s = _ns["make_run"]()
        o = make_opt(m) if make_opt else o
        s = make_sched(o) if make_sched else s
        return m, o, s, m.state_dict(), o.state_dict(), (s.state_dict() if s else None)

    def unchanged(m, o, s, weights, opt_state, sched_state):
        for k, v in m.state_dict().items():
            assert np.array_equal(v, weights[k]), k
        assert o.state_dict()["param_groups"] == opt_state["param_groups"] and o.state == {}
        if s is not None:
            assert s.state_dict() == sched_state
        np.testing.assert_array_equal(gw.rand(3).data, (gw.manual_seed(4), gw.rand(3).data)[1])

    # another optimizer: refused, naming both, before the weights are touched
    m, o, s, *before = fresh(lambda m: optim.SGD(m.parameters(), lr=0.5), lambda o: None)
    gw.manual_seed(4)
    with pytest.raises(ValueError, match=r"adam.npz.*optimizer.*Adam optimizer's, this optimizer "
                                         r"is a SGD"):
        load_checkpoint(tmp_path / "adam.npz", m, o)
    unchanged(m, o, s, *before)
    assert o.lr == 0.5
    # another scheduler
    m, o, s, *before = fresh(make_sched=lambda o: lr_scheduler.ExponentialLR(o, gamma=0.5))
    gw.manual_seed(4)
    with pytest.raises(ValueError, match="StepLR's, this scheduler is a ExponentialLR"):
        load_checkpoint(tmp_path / "adam.npz", m, o, s)
    unchanged(m, o, s, *before)
    # optimizer buffers that do not fit the parameters (a checkpoint of a wider model)
    gw.manual_seed(3)
    wide = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 2))
    wide_opt = optim.Adam(wide.parameters(), lr=0.02)
    fit(wide, F.cross_entropy, wide_opt, (_ns["X"], _ns["y"]), epochs=1, verbose=0)
    state = gw.load(tmp_path / "adam.npz")
    state["optimizer"]["state"][0]["exp_avg"] = np.zeros((3, 3), np.float32)
    gw.save(state, tmp_path / "bad-buffer.npz")
    m, o, s, *before = fresh()
    gw.manual_seed(4)
    with pytest.raises(ValueError, match=r"buffer 'exp_avg' of parameter 0 has shape \(3, 3\)"):
        load_checkpoint(tmp_path / "bad-buffer.npz", m, o, s)
    unchanged(m, o, s, *before)
    # a damaged generator state
    state = gw.load(tmp_path / "adam.npz")
    state["rng"] = {"bit_generator": "PCG64", "state": {"state": "x"}}
    gw.save(state, tmp_path / "bad-rng.npz")
    m, o, s, *before = fresh()
    gw.manual_seed(4)
    with pytest.raises(ValueError, match="generator state 'rng' is damaged"):
        load_checkpoint(tmp_path / "bad-rng.npz", m, o, s)
    unchanged(m, o, s, *before)
    # the intact checkpoint still loads
    m, o, s, *_ = fresh()
    assert load_checkpoint(tmp_path / "adam.npz", m, o, s) == 1
    assert o.state_dict()["state"].keys() == opt.state_dict()["state"].keys()


def _jitter(X, rng):
    """An augmentation drawing from the generator the DataLoader hands it."""
    return X + rng.normal(0.0, 0.05, X.shape).astype(X.dtype)


class OwnGeneratorJitter:
    """An augmentation with a generator of its own and no way to save it."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, X):
        return X + self.rng.normal(0.0, 0.05, X.shape).astype(X.dtype)


class OwnShuffle:
    """Batches shuffled by a generator of its own, without a state_dict."""

    def __init__(self, X, y, seed):
        self.X, self.y, self.gen = X, y, np.random.default_rng(seed)

    def __iter__(self):
        order = self.gen.permutation(len(self.X))
        for i in range(0, len(order), 32):
            yield self.X[order[i:i + 32]], self.y[order[i:i + 32]]


def test_resume_restores_a_dataloaders_own_generator(tmp_path):
    X, y = make_moons(300, seed=1)
    Xv, yv = make_moons(100, seed=2)

    def run(seed):
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
        opt = optim.Adam(model.parameters(), lr=0.02)
        train = DataLoader((X, y), batch_size=32, shuffle=True, generator=seed, transform=_jitter)
        val = DataLoader((Xv, yv), batch_size=32, shuffle=True, generator=seed + 1)
        return model, opt, train, val

    # the uninterrupted run: 4 epochs
    gw.manual_seed(0)
    model, opt, train, val = run(7)
    full = fit(model, F.cross_entropy, opt, train, val_data=val, epochs=4, verbose=0)
    # 2 epochs, checkpointed by ModelCheckpoint ...
    gw.manual_seed(0)
    m2, o2, t2, v2 = run(7)
    fit(m2, F.cross_entropy, o2, t2, val_data=v2, epochs=2, verbose=0,
        callbacks=[ModelCheckpoint(tmp_path / "run-{epoch}.npz")])
    ckpt = gw.load(tmp_path / "run-2.npz")
    assert set(ckpt["data"]) == {"train", "val"} and ckpt["data"]["train"]["generator"] is not None
    # ... and 2 more with fresh objects, seeded otherwise: all state comes from the checkpoint
    gw.manual_seed(123)
    m3, o3, t3, v3 = run(100)
    start = load_checkpoint(tmp_path / "run-2.npz", m3, o3, data={"train": t3, "val": v3})
    rest = fit(m3, F.cross_entropy, o3, t3, val_data=v3, epochs=4, initial_epoch=start, verbose=0)
    for k, v in model.state_dict().items():
        assert np.array_equal(m3.state_dict()[k], v), k  # bit for bit
    assert rest["loss"] == full["loss"][2:] and rest["val_loss"] == full["val_loss"][2:]
    # the loader's generator is what made it exact: without it the shuffles differ
    gw.manual_seed(123)
    m4, o4, t4, v4 = run(100)
    load_checkpoint(tmp_path / "run-2.npz", m4, o4)
    fit(m4, F.cross_entropy, o4, t4, epochs=4, initial_epoch=start, verbose=0)
    assert not np.array_equal(m4.state_dict()["0.W"], model.state_dict()["0.W"])
    # a loader built the other way (gradwise's generator) is refused, before anything changes
    m5, o5, _, _ = run(7)
    before = params(m5)
    with pytest.raises(ValueError, match="saved loader had its own generator, this one draws "
                                         "from gradwise's"):
        load_checkpoint(tmp_path / "run-2.npz", m5, o5, data=DataLoader((X, y), shuffle=True))
    assert all(np.array_equal(a, b) for a, b in zip(before, params(m5)))


def test_data_with_a_generator_that_cannot_be_saved_is_refused_naming_it(tmp_path):
    X, y = make_moons(64, seed=3)
    model = mlp(4)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = params(model)
    loader = DataLoader((X, y), batch_size=16, shuffle=True, transform=OwnGeneratorJitter(0))
    with pytest.raises(ValueError, match=r"the transform \(OwnGeneratorJitter\) keeps its own "
                                         r"random generator \(at 'OwnGeneratorJitter.rng'\)"):
        fit(model, F.cross_entropy, opt, loader, epochs=2, verbose=0,
            callbacks=[ModelCheckpoint(tmp_path / "c.npz")])
    with pytest.raises(ValueError, match=r"ModelCheckpoint: the train data \(OwnShuffle\) "
                                         r".*\(at 'OwnShuffle.gen'\)"):
        fit(model, F.cross_entropy, opt, OwnShuffle(X, y, 0), epochs=2, verbose=0,
            callbacks=[ModelCheckpoint(tmp_path / "c.npz")])
    with pytest.raises(ValueError, match="OwnShuffle.gen"):
        save_checkpoint(tmp_path / "c.npz", model, opt, data=OwnShuffle(X, y, 0))
    assert all(np.array_equal(a, b) for a, b in zip(before, params(model)))  # nothing trained
    assert os.listdir(tmp_path) == []
    # weights alone need no generator; nor does a transform that draws from the one handed in
    fit(model, F.cross_entropy, opt, loader, epochs=1, verbose=0,
        callbacks=[ModelCheckpoint(tmp_path / "w.npz", save_weights_only=True)])
    save_checkpoint(tmp_path / "c.npz", model, opt, data=DataLoader((X, y), transform=_jitter))


RESUME = SETUP + textwrap.dedent("""
    import sys
    from gradwise.train import fit, load_checkpoint

    gw.manual_seed(12345)  # another generator: all state must come from the checkpoint
    model, opt, sched = make_run()
    start = load_checkpoint(sys.argv[1], model, opt, sched)
    h = fit(model, F.cross_entropy, opt, (X, y), epochs=4, initial_epoch=start, scheduler=sched, **KW)
    gw.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "loss": h.history["loss"],
             "epoch": h.epoch, "start": start}, sys.argv[2])
""")


def test_resume_in_a_new_process_is_bit_for_bit(tmp_path):
    X, y, KW, make_run = _ns["X"], _ns["y"], _ns["KW"], _ns["make_run"]
    # the uninterrupted run: 4 epochs with shuffling, dropout, batch norm, Adam and StepLR
    gw.manual_seed(0)
    model, opt, sched = make_run()
    full = fit(model, F.cross_entropy, opt, (X, y), epochs=4, scheduler=sched, **KW)

    # 2 epochs, checkpointed by ModelCheckpoint every epoch ...
    gw.manual_seed(0)
    m2, o2, s2 = make_run()
    fit(m2, F.cross_entropy, o2, (X, y), epochs=2, scheduler=s2,
        callbacks=[ModelCheckpoint(tmp_path / "run-{epoch}.npz")], **KW)
    # ... and 2 more in a fresh interpreter
    script = tmp_path / "resume.py"
    script.write_text(RESUME)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "run-2.npz"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = gw.load(tmp_path / "out.npz")

    assert out["start"] == 2 and out["epoch"] == [2, 3]
    final = model.state_dict()
    assert list(out["model"]) == list(final)
    for k, v in final.items():
        assert np.array_equal(out["model"][k], v), k  # bit for bit
    assert out["loss"] == full["loss"][2:]
    ref_opt = opt.state_dict()
    assert out["optimizer"]["param_groups"][0]["lr"] == ref_opt["param_groups"][0]["lr"]
    for i, state in ref_opt["state"].items():
        for k, v in state.items():
            assert np.array_equal(out["optimizer"]["state"][i][k], v)
    # and the run really did change over those 2 epochs
    assert not np.array_equal(gw.load(tmp_path / "run-2.npz")["model"]["0.W"], final["0.W"])
