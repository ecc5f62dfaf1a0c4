"""gradwise.search: sampling scales, zooming, seeded trials (serial, process pool and Ray give the
same table), the moons lr search against a dense sweep, panda, and `gradwise search/train`."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from shared_data import DATA, needs_mnist

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim
from gradwise.cli import main
from gradwise.optim import lr_scheduler
from gradwise.search import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    Uniform,
    babysit,
    coarse_to_fine,
    load_data,
    load_run,
    objective,
    random_search,
    space_from_dict,
    space_to_dict,
    train_config,
    trial_plan,
    zoom_space,
)
from gradwise.search.recipe import build_model, check_config
from gradwise.train import Callback

PNG = b"\x89PNG\r\n\x1a\n"
# the moons recipe the search tests tune: plain SGD, so that the learning rate decides everything
MOONS_SGD = {"dataset": "moons", "optimizer": "sgd", "epochs": 20}


# ---- sampling on the right scale ---------------------------------------------------------------
def test_log_uniform_puts_as_many_draws_in_each_decade():
    rng = np.random.default_rng(0)
    d = LogUniform(1e-4, 1.0)
    x = np.array([d.sample(rng) for _ in range(4000)])
    assert x.min() >= 1e-4 and x.max() <= 1.0
    per_decade = np.histogram(np.log10(x), bins=[-4, -3, -2, -1, 0])[0] / len(x)
    assert np.allclose(per_decade, 0.25, atol=0.03)
    # a uniform draw over the same range puts ~90% above 0.1, the course's warning
    u = np.array([Uniform(1e-4, 1.0).sample(rng) for _ in range(4000)])
    assert np.mean(u > 0.1) > 0.88


def test_one_minus_log_uniform_for_betas():
    rng = np.random.default_rng(1)
    d = OneMinusLogUniform(0.9, 0.999)   # 1 - beta = 10^r, r ~ U(-3, -1)
    b = np.array([d.sample(rng) for _ in range(4000)])
    assert b.min() >= 0.9 and b.max() <= 0.999
    r = np.log10(1 - b)
    assert np.histogram(r, bins=[-3, -2, -1])[0] / len(b) == pytest.approx([0.5, 0.5], abs=0.03)
    assert np.mean(b > 0.99) == pytest.approx(0.5, abs=0.03)  # half the draws in [0.99, 0.999]
    with pytest.raises(ValueError, match="below 1"):
        OneMinusLogUniform(0.9, 1.0)


def test_int_uniform_and_choice():
    rng = np.random.default_rng(2)
    ints = {IntUniform(2, 5).sample(rng) for _ in range(200)}
    assert ints == {2, 3, 4, 5}
    assert {Choice(["relu", "tanh"]).sample(rng) for _ in range(50)} == {"relu", "tanh"}
    with pytest.raises(ValueError, match="bounds must be integers"):
        IntUniform(1.5, 3)
    with pytest.raises(ValueError, match="at least one option"):
        Choice([])
    with pytest.raises(ValueError, match="positive"):
        LogUniform(0, 1)
    with pytest.raises(ValueError, match="low <= high"):
        Uniform(2, 1)


def test_zoom_narrows_around_the_best_inside_the_bounds():
    lr = LogUniform(1e-4, 1.0).zoom([1e-2, 3e-2], margin=0.25)   # 4 decades: 1 decade of margin
    assert isinstance(lr, LogUniform)
    assert lr.low == pytest.approx(1e-3) and lr.high == pytest.approx(0.3)
    edge = LogUniform(1e-4, 1.0).zoom([0.5, 0.9])
    assert edge.high == 1.0  # kept inside the original range
    beta = OneMinusLogUniform(0.9, 0.999).zoom([0.99], margin=0.1)   # 1 - beta around 0.01
    assert 1 - beta.high == pytest.approx(10 ** -2.2) and 1 - beta.low == pytest.approx(10 ** -1.8)
    hidden = IntUniform(8, 64).zoom([20, 30], margin=0.1)
    assert (hidden.low, hidden.high) == (14, 36)   # 20 - 5.6 and 30 + 5.6, rounded outwards
    assert Choice(["a", "b", "c"]).zoom(["c", "a", "c"]).options == ["a", "c"]
    space = zoom_space({"lr": LogUniform(1e-4, 1), "epochs": 5}, [{"lr": 0.01, "epochs": 5}])
    assert space["epochs"] == 5 and space["lr"].low < 0.01 < space["lr"].high


def test_spaces_to_and_from_json():
    space = {"lr": LogUniform(1e-4, 1), "beta1": OneMinusLogUniform(0.8, 0.999),
             "hidden": IntUniform(8, 64), "p": Uniform(0.1, 0.5), "act": Choice(["relu", "tanh"]),
             "epochs": 30}
    d = json.loads(json.dumps(space_to_dict(space)))
    assert d["lr"] == {"loguniform": [1e-4, 1.0]} and d["epochs"] == 30
    assert space_from_dict(d) == space
    with pytest.raises(ValueError, match="unknown distribution 'lognormal'"):
        space_from_dict({"lr": {"lognormal": [0, 1]}})
    with pytest.raises(ValueError, match=r"loguniform takes \[low, high\]"):
        space_from_dict({"lr": {"loguniform": [1]}})


# ---- seeded trials ------------------------------------------------------------------------------
def test_trial_plan_depends_on_seed_round_and_index_only():
    space = {"lr": LogUniform(1e-4, 1), "hidden": IntUniform(8, 64)}
    a = trial_plan(space, 5, seed=7)
    assert a == trial_plan(space, 5, seed=7)
    assert a[:3] == trial_plan(space, 3, seed=7)          # trial i is trial i, whatever the count
    assert a != trial_plan(space, 5, seed=8)
    assert trial_plan(space, 2, seed=7, round_=1) != a[:2]
    assert len({s for _, _, s in a}) == 5 and all(s >= 0 for _, _, s in a)


def quadratic(config, seed):
    """A toy objective: minimum at lr = 1e-2; the seed adds a little noise."""
    noise = np.random.default_rng(seed).normal(0, 1e-3)
    return {"score": (math.log10(config["lr"]) + 2) ** 2 + noise, "gw_draw": float(gw.rand(1).data[0])}


def test_each_trial_runs_with_its_own_seed_in_gradwise():
    r = random_search(quadratic, {"lr": LogUniform(1e-4, 1)}, n_trials=4, seed=0, executor="serial")
    for t in r.trials:
        gw.manual_seed(t.seed)
        assert t.metrics["gw_draw"] == float(gw.rand(1).data[0])
    assert abs(math.log10(r.best.config["lr"]) + 2) < 1


def test_serial_and_process_pool_give_the_same_trials():
    space = {"lr": LogUniform(1e-3, 1.0), "hidden": IntUniform(4, 16), **MOONS_SGD, "epochs": 3}
    serial = random_search(objective, space, n_trials=4, seed=5, executor="serial")
    pool = random_search(objective, space, n_trials=4, seed=5, executor="process", workers=2)
    assert [(t.index, t.config, t.seed, t.score, t.metrics) for t in serial.trials] == \
           [(t.index, t.config, t.seed, t.score, t.metrics) for t in pool.trials]


def test_ray_gives_the_same_trials_as_the_process_pool():
    # a local Ray instance started (and shut down) by the search itself, as with a cluster
    # address; about 10 s, most of it Ray's start-up
    ray = pytest.importorskip("ray")
    space = {"lr": LogUniform(1e-3, 1.0), "hidden": IntUniform(4, 16), **MOONS_SGD, "epochs": 3}
    on_ray = random_search(objective, space, n_trials=4, seed=5, executor="ray", workers=2)
    assert not ray.is_initialized()
    serial = random_search(objective, space, n_trials=4, seed=5, executor="serial")
    assert [(t.config, t.seed, t.score, t.metrics) for t in on_ray.trials] == \
           [(t.config, t.seed, t.score, t.metrics) for t in serial.trials]


def failing(config, seed):
    raise KeyError("no such layer")


def test_diverged_trials_are_kept_as_worst_other_errors_stop_the_search():
    space = {"lr": LogUniform(1e3, 1e4), **MOONS_SGD, "epochs": 2}
    r = random_search(objective, space, n_trials=2, seed=0, executor="serial")
    assert all(t.score == math.inf and "loss became" in t.error for t in r.trials)
    assert "2 diverged" in r.table()
    assert json.loads(json.dumps(r.to_dict(), allow_nan=False))["trials"][0]["score"] == "inf"
    with pytest.raises(RuntimeError, match=r"trial 0 \(config \{'lr': .*\}\) failed: KeyError"):
        random_search(failing, {"lr": LogUniform(1e-3, 1)}, n_trials=1, executor="serial")
    with pytest.raises(ValueError, match="executor must be one of"):
        random_search(quadratic, {"lr": LogUniform(1e-3, 1)}, executor="grid")
    with pytest.raises(ValueError, match="no distribution to search"):
        random_search(quadratic, {"lr": 0.1})


# ---- the result: 20 trials on moons find lr within a decade of the best -----------------
def test_twenty_trial_search_on_moons_finds_lr_within_a_decade_of_the_best():
    # "the best" by a dense sweep: 21 learning rates, 4 a decade over 10^-4 .. 10^1, same recipe
    # (plain SGD, 20 epochs, dev cross-entropy after the last one); then the search: 20 random
    # log-uniform trials over the same range in a process pool. 41 short trainings, 6-10 s.
    sweep = {}
    for lr in 10.0 ** np.linspace(-4, 1, 21):
        try:
            sweep[lr] = objective({**MOONS_SGD, "lr": float(lr)}, seed=0)["score"]
        except FloatingPointError:
            sweep[lr] = math.inf
    best_lr = min(sweep, key=sweep.get)
    assert 0.05 < best_lr < 5  # the sweep's own sanity: too small under-trains, too large diverges
    result = random_search(objective, {"lr": LogUniform(1e-4, 10), **MOONS_SGD}, n_trials=20,
                           seed=0, executor="process")
    found = result.best.config["lr"]
    assert abs(math.log10(found) - math.log10(best_lr)) <= 1.0, (found, best_lr)
    assert result.best.score <= 1.25 * sweep[best_lr]
    assert len(result.trials) == 20 and len({t.config["lr"] for t in result.trials}) == 20


def test_coarse_to_fine_zooms_and_keeps_every_trial(tmp_path):
    r = coarse_to_fine(quadratic, {"lr": LogUniform(1e-6, 1e2)}, rounds=3, n_trials=8, top=3,
                       seed=1, executor="serial")
    assert [t.index for t in r.trials] == list(range(24))
    assert [t.round for t in r.trials] == [0] * 8 + [1] * 8 + [2] * 8
    widths = [math.log10(s["lr"].high / s["lr"].low) for s in r.spaces]
    assert widths[0] == 8 and widths[0] > widths[1] > widths[2]
    assert r.spaces[2]["lr"].low < 1e-2 < r.spaces[2]["lr"].high
    assert abs(math.log10(r.best.config["lr"]) + 2) < 0.2
    assert "round 3:" in r.describe_spaces()
    assert r.plot(tmp_path / "c2f.png").read_bytes()[:8] == PNG


def test_table_plot_and_files(tmp_path):
    space = {"lr": LogUniform(1e-3, 1), "beta1": OneMinusLogUniform(0.8, 0.999),
             "activation": Choice(["relu", "tanh"]), **MOONS_SGD, "optimizer": "momentum", "epochs": 2}
    r = random_search(objective, space, n_trials=5, seed=3, executor="serial")
    lines = r.table().splitlines()
    assert lines[0].split()[:6] == ["rank", "trial", "round", "lr", "beta1", "activation"]
    assert int(lines[1].split()[1]) == r.best.index and len(lines) == 7
    assert r.top(2)[0] is r.best and r.best.score <= r.top(2)[1].score
    assert r.plot(tmp_path / "s.png").read_bytes()[:8] == PNG
    saved = json.loads(r.save(tmp_path / "trials.json").read_text())
    assert len(saved["trials"]) == 5 and saved["spaces"][0]["lr"] == {"loguniform": [0.001, 1.0]}
    best = json.loads(r.save_best(tmp_path / "best.json").read_text())
    assert best["config"]["seed"] == r.best.seed and best["search"]["trial"] == r.best.index
    # retraining the saved configuration repeats the trial exactly
    assert train_config(best["config"]).metrics["dev_loss"] == r.best.score


# ---- the recipe -------------------------------------------------------------------------------------
def test_recipe_configs_are_checked():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['lr_decay'\]"):
        check_config({"lr_decay": 0.1})
    with pytest.raises(ValueError, match="dataset 'cifar' is not one of"):
        check_config({"dataset": "cifar"})
    with pytest.raises(ValueError, match="lr must be a positive number"):
        check_config({"lr": -1})
    with pytest.raises(ValueError, match="beta1 must be in"):
        check_config({"beta1": 1.0})
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        check_config({"epochs": 2.5})


@pytest.mark.parametrize("name, classes", [("moons", 2), ("circles", 2), ("spirals", 3),
                                           ("blobs", 3), ("flower", 2)])
def test_recipe_datasets(name, classes):
    data = load_data({"dataset": name, "n_samples": 300})
    (X, y), (Xd, yd) = data.train, data.dev
    assert X.dtype == np.float32 and y.dtype == np.int64 and data.num_classes == classes
    assert len(Xd) == pytest.approx(0.3 * (len(X) + len(Xd)), abs=2) and len(yd) == len(Xd)
    assert np.allclose(X.mean(0), 0, atol=1e-5)  # standardized on the training split
    model = build_model({"hidden": [8, 4]}, data.in_features, data.num_classes)
    assert [m.out_features for m in model if isinstance(m, nn.Linear)] == [8, 4, classes]


@needs_mnist
def test_recipe_mnist_from_the_data_folder(monkeypatch):
    monkeypatch.setenv("GRADWISE_DATA", str(DATA))
    data = load_data({"dataset": "mnist", "dev_fraction": 0.2})
    assert data.train[0].shape == (48000, 784) and data.dev[0].shape == (12000, 784)
    assert data.num_classes == 10 and data.standardizer is None and data.train[0].max() <= 1.0


# ---- panda ------------------------------------------------------------------------------------------
def _moons():
    data = load_data({"dataset": "moons", "n_samples": 400})
    return data.train, data.dev


def test_babysit_rolls_back_divergence_with_a_smaller_lr(tmp_path):
    train, dev = _moons()
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32, init="he_normal"), nn.ReLU(), nn.Linear(32, 2, init="he_normal"))
    opt = optim.SGD(model.parameters(), lr=30.0)  # far too large: the loss blows up
    with np.errstate(all="ignore"):
        r = babysit(model, F.cross_entropy, opt, train, dev, epochs=4, directory=tmp_path,
                    batch_size=32, verbose=0)
    rolled = [e for e in r.epochs if e["action"] == "rolled back"]
    kept = [e for e in r.epochs if e["action"] == "kept"]
    assert rolled and {e["epoch"] for e in kept} == {1, 2, 3, 4} and kept[-1]["epoch"] == 4
    assert [e["lr"] for e in rolled][:2] == pytest.approx([30.0, 9.0])  # x 0.3 per rollback
    # epoch 1 at lr 30 ends far worse than the untrained model: back to the start, lr x 0.3
    assert r.events[0].startswith("epoch 1: val_loss") and r.events[0].endswith("rolled back to epoch 0, lr 30 -> 9")
    assert kept[0]["lr"] < 30.0 and math.isfinite(r.best_value)
    assert sorted(p.name for p in tmp_path.glob("epoch-*.npz"))[:2] == ["epoch-000.npz", "epoch-001.npz"]
    assert json.loads((tmp_path / "control.json").read_text())["lr"] == pytest.approx(kept[-1]["lr"])


def test_babysit_takes_the_learning_rate_from_the_control_file(tmp_path):
    train, dev = _moons()
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    control = tmp_path / "control.json"

    class UserEditsTheFile(Callback):  # stands in for a person editing it mid-run
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                control.write_text('{"lr": 0.002}')
            if epoch == 3:
                control.write_text('{"lr": 0.002, "stop": true}')

    r = babysit(model, F.cross_entropy, opt, train, dev, epochs=10, directory=tmp_path,
                callbacks=[UserEditsTheFile()], verbose=0)
    assert [e["lr"] for e in r.epochs] == [0.01, 0.01, 0.002, 0.002]
    assert "epoch 3: lr 0.01 -> 0.002 (control file)" in r.events
    assert "epoch 5: stopped by the control file" in r.events
    control.write_text('{"lr": "fast"}')
    r = babysit(model, F.cross_entropy, opt, train, dev, epochs=1, directory=tmp_path, verbose=0)
    assert r.epochs[0]["action"] == "kept"  # the run's own control file replaced the bad one


def test_babysit_schedules_the_lr_with_a_scheduler_and_restores_the_best_checkpoint(tmp_path):
    train, dev = _moons()
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = optim.SGD(model.parameters(), lr=0.05)
    r = babysit(model, F.cross_entropy, opt, train, dev, epochs=3, directory=tmp_path,
                scheduler=lr_scheduler.LambdaLR(opt, lambda epoch: 2.0 ** epoch), verbose=0)
    assert [e["lr"] for e in r.epochs] == pytest.approx([0.05, 0.1, 0.2])
    assert gw.load(r.best_path)["scheduler"]["last_epoch"] == r.best_epoch  # checkpointed
    with pytest.raises(TypeError, match="policy"):  # one way to schedule: no policy beside it
        babysit(model, F.cross_entropy, opt, train, dev, policy=lambda e, logs, lr: lr)
    best = gw.load(r.best_path)["model"]
    assert all(np.array_equal(best[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="divergence > 1"):
        babysit(model, F.cross_entropy, opt, train, dev, divergence=0.5, directory=tmp_path)


# ---- the command line ---------------------------------------------------------------------------------
def test_cli_search_then_train_the_best(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": {"loguniform": [1e-3, 1]}, "hidden": {"randint": [4, 16]},
                                 "optimizer": "sgd", "epochs": 3}))
    runner = CliRunner()
    out = runner.invoke(main, ["search", str(space), "--trials", "3", "--executor", "serial",
                               "--out", str(tmp_path / "s")])
    assert out.exit_code == 0, out.output
    assert "lr  10^U(-3, 0)" in out.output and "train it: gradwise train" in out.output
    for name in ("trials.json", "search.png", "best.json"):
        assert (tmp_path / "s" / name).exists()
    best = json.loads((tmp_path / "s" / "best.json").read_text())
    assert best["config"]["dataset"] == "moons"  # the default
    out = runner.invoke(main, ["search", str(space), "--trials", "1", "--executor", "serial",
                               "--dataset", "circles", "--out", str(tmp_path / "c")])
    assert json.loads((tmp_path / "c" / "best.json").read_text())["config"]["dataset"] == "circles"
    out = runner.invoke(main, ["train", str(tmp_path / "s" / "best.json"), "--out", str(tmp_path / "t"),
                               "--no-progress", "--monitor"])
    assert out.exit_code == 0, out.output
    assert "Bias/variance diagnosis" in out.output and "Training health over 3 epoch(s)" in out.output
    assert (tmp_path / "t" / "health.png").read_bytes()[:8] == PNG
    model, config, std = load_run(tmp_path / "t" / "model.npz")
    assert config["lr"] == best["config"]["lr"] and config["hidden"] == best["config"]["hidden"]
    data = load_data(config)
    assert np.allclose(std.mean, data.standardizer.mean)
    from gradwise.train import evaluate
    dev = evaluate(model, F.cross_entropy, data.dev)
    assert dev["loss"] == pytest.approx(best["search"]["score"], rel=1e-6)


def test_cli_train_babysit_and_errors(tmp_path):
    runner = CliRunner()
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"dataset": "circles", "epochs": 2, "n_samples": 200}))
    out = runner.invoke(main, ["train", str(config), "--babysit", "--out", str(tmp_path / "b"),
                               "--human-error", "0.01"])
    assert out.exit_code == 0, out.output
    assert "panda: epoch 2/2" in out.output and "control.json" in out.output
    assert (tmp_path / "b" / "epoch-002.npz").exists() and (tmp_path / "b" / "model.npz").exists()
    assert "human-level error  1.00%" in out.output
    config.write_text(json.dumps({"dataset": "moons", "lerning_rate": 0.1}))
    out = runner.invoke(main, ["train", str(config)])
    assert out.exit_code != 0 and "unknown key(s) ['lerning_rate']" in out.output
    out = runner.invoke(main, ["train", str(config), "--monitor", "--babysit"])
    assert out.exit_code != 0 and "choose one" in out.output
    bad = tmp_path / "space.json"
    bad.write_text('{"lr": {"loguniform": [0, 1]}}')
    out = runner.invoke(main, ["search", str(bad), "--executor", "serial"])
    assert out.exit_code != 0 and "LogUniform: bounds must be positive" in out.output
    bad.write_text('{"learning_rate": {"loguniform": [0.001, 1]}}')
    out = runner.invoke(main, ["search", str(bad), "--executor", "serial"])
    assert out.exit_code != 0 and "unknown key(s) ['learning_rate']" in out.output
