"""A training run described by a flat configuration: what `gradwise train CONFIG` runs and
what the built-in search objective tunes.

    config = {"dataset": "moons", "hidden": 32, "layers": 2, "activation": "relu",
              "optimizer": "adam", "lr": 0.01, "epochs": 30}
    run = train_config(config)           # the missing keys take DEFAULTS
    run.metrics                          # {'train_loss': ..., 'train_error': ..., 'dev_loss': ..., 'dev_error': ...}
    save_run(run, "model.npz"); model, config, standardizer = load_run("model.npz")

The model is an MLP: `layers` hidden layers of `hidden` units (an int, or a list of sizes),
each Linear -> activation (-> Dropout(dropout) when dropout > 0), then a Linear to the classes;
trained with cross-entropy on the logits. Inputs are standardized with the training split's
mean and variance (generated data) or scaled to [0, 1] (MNIST). The dev split is held out
from the training data with `dev_fraction` and `data_seed`, so every trial of a search is
scored on the same examples.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .. import backend, io, nn, optim
from .. import functional as F
from ..data import Standardizer, train_dev_test_split
from ..train import evaluate, fit

__all__ = ["DEFAULTS", "DATASETS", "METRICS", "load_data", "build_model", "build_optimizer",
           "train_config", "babysit_config", "TrainedRun", "save_run", "load_run", "objective",
           "check_config", "read_config"]

DEFAULTS = {
    "dataset": "moons",        # one of DATASETS
    "n_samples": 1000,         # generated datasets: examples in all (train + dev)
    "noise": 0.2,              # generated datasets: their noise
    "data_seed": 0,            # the generator's seed and the train/dev split's
    "dev_fraction": 0.3,       # held out from the training data as the dev set
    "hidden": 32,              # units per hidden layer (or a list of sizes)
    "layers": 2,               # hidden layers (ignored when hidden is a list)
    "activation": "relu",      # relu, tanh, sigmoid, leaky_relu
    "init": "he_normal",       # a gradwise.nn.init scheme name
    "dropout": 0.0,            # drop probability after each hidden activation
    "optimizer": "adam",       # sgd, momentum, rmsprop, adam, adamw
    "lr": 0.01,
    "momentum": 0.0,           # sgd: PyTorch's v = mu v + g
    "beta1": 0.9,              # momentum (course form beta), adam/adamw beta1
    "beta2": 0.999,            # adam/adamw beta2, rmsprop beta
    "weight_decay": 0.0,       # L2 (adamw: decoupled)
    "batch_size": 64,
    "epochs": 30,
    "seed": 0,                 # initialization, shuffling and dropout
}

DATASETS = ("moons", "circles", "spirals", "blobs", "flower", "mnist", "fashion_mnist")
METRICS = ("dev_loss", "dev_error", "train_loss", "train_error")
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU}
_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw")


def check_config(config: dict) -> dict:
    """DEFAULTS updated with `config`, checked: unknown keys and bad values are errors that
    name the key."""
    if not isinstance(config, dict):
        raise TypeError(f"config: expected a dict of hyperparameters, got {type(config).__name__}")
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"config: unknown key(s) {unknown}; the keys are {sorted(DEFAULTS)}")
    c = {**DEFAULTS, **config}
    if c["dataset"] not in DATASETS:
        raise ValueError(f"config: dataset {c['dataset']!r} is not one of {DATASETS}")
    if c["activation"] not in _ACTIVATIONS:
        raise ValueError(f"config: activation {c['activation']!r} is not one of {sorted(_ACTIVATIONS)}")
    if c["optimizer"] not in _OPTIMIZERS:
        raise ValueError(f"config: optimizer {c['optimizer']!r} is not one of {_OPTIMIZERS}")
    for key in ("lr",):
        if not (isinstance(c[key], (int, float)) and math.isfinite(c[key]) and c[key] > 0):
            raise ValueError(f"config: {key} must be a positive number, got {c[key]!r}")
    for key in ("beta1", "beta2", "momentum", "dropout"):
        if not 0.0 <= float(c[key]) < 1.0:
            raise ValueError(f"config: {key} must be in [0, 1), got {c[key]!r}")
    if not 0.0 < float(c["dev_fraction"]) < 1.0:
        raise ValueError(f"config: dev_fraction must be in (0, 1), got {c['dev_fraction']!r}")
    for key in ("epochs", "batch_size", "n_samples", "layers"):
        if not (isinstance(c[key], (int, np.integer)) and c[key] >= (0 if key == "layers" else 1)):
            raise ValueError(f"config: {key} must be a positive integer, got {c[key]!r}")
    hidden = c["hidden"] if isinstance(c["hidden"], list) else [c["hidden"]]
    if not all(isinstance(h, (int, np.integer)) and h >= 1 for h in hidden):
        raise ValueError(f"config: hidden must be a positive integer or a list of them, got {c['hidden']!r}")
    return c


@dataclass
class Data:
    train: tuple
    dev: tuple
    in_features: int
    num_classes: int
    standardizer: Standardizer | None = None


def _generated(c: dict):
    from .. import datasets as D

    name, n, noise, seed = c["dataset"], int(c["n_samples"]), float(c["noise"]), int(c["data_seed"])
    if name == "moons":
        return D.make_moons(n, noise=noise, random_state=seed)
    if name == "circles":
        return D.make_circles(n, noise=noise, random_state=seed, factor=0.5)
    if name == "spirals":
        return D.make_spirals(max(1, n // 3), 3, noise=noise, seed=seed)
    if name == "blobs":
        return D.make_blobs(n, centers=3, cluster_std=max(noise, 1e-3) * 10, seed=seed)
    X, y = D.load_planar_dataset(seed=seed if seed else 1)  # the course's flower (400 points)
    return X, y.reshape(-1)


def load_data(config: dict) -> Data:
    """The train and dev splits the config names, as float32 arrays and int64 labels."""
    c = check_config(config)
    if c["dataset"] in ("mnist", "fashion_mnist"):
        from ..datasets import load_fashion_mnist, load_mnist

        load = load_mnist if c["dataset"] == "mnist" else load_fashion_mnist
        (X, y), _ = load(normalize=True, flatten=True)  # the test set stays untouched
        std = None
    else:
        X, y = _generated(c)
        std = Standardizer()
    f = float(c["dev_fraction"])
    train, dev, _ = train_dev_test_split(X, np.asarray(y).astype(np.int64), (1.0 - f, f, 0.0),
                                         seed=int(c["data_seed"]))
    (Xt, yt), (Xd, yd) = train, dev
    if std is not None:
        std.fit(Xt)
        Xt, Xd = std.transform(Xt), std.transform(Xd)
    Xt, Xd = Xt.astype(np.float32), Xd.astype(np.float32)
    classes = int(max(yt.max(), yd.max())) + 1
    return Data((Xt, yt), (Xd, yd), Xt.shape[1], max(classes, 2), std)


def build_model(config: dict, in_features: int, num_classes: int) -> nn.Sequential:
    """The config's MLP, its weights drawn from gradwise's generator."""
    c = check_config(config)
    sizes = c["hidden"] if isinstance(c["hidden"], list) else [int(c["hidden"])] * int(c["layers"])
    layers, n_prev = [], in_features
    for n in sizes:
        layers += [nn.Linear(n_prev, int(n), init=c["init"]), _ACTIVATIONS[c["activation"]]()]
        if c["dropout"] > 0:
            layers.append(nn.Dropout(float(c["dropout"])))
        n_prev = int(n)
    layers.append(nn.Linear(n_prev, num_classes, init=c["init"]))
    return nn.Sequential(*layers)


def build_optimizer(config: dict, params):
    c = check_config(config)
    name, lr, wd = c["optimizer"], float(c["lr"]), float(c["weight_decay"])
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=float(c["momentum"]), weight_decay=wd)
    if name == "momentum":
        return optim.Momentum(params, lr=lr, beta=float(c["beta1"]), weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, beta=float(c["beta2"]), weight_decay=wd)
    cls = optim.Adam if name == "adam" else optim.AdamW
    return cls(params, lr=lr, betas=(float(c["beta1"]), float(c["beta2"])), weight_decay=wd)


@dataclass
class TrainedRun:
    """A trained model with its full config, the fit History, the final metrics and the
    input standardizer (None for MNIST)."""

    config: dict
    model: nn.Module
    history: object
    metrics: dict = field(default_factory=dict)
    standardizer: Standardizer | None = None


def train_config(config: dict, verbose: int = 0, data: Data | None = None, callbacks=None,
                 monitor=False) -> TrainedRun:
    """Train the model the config describes on its dataset; metrics are measured after the
    last epoch: loss (cross-entropy) and error (1 - accuracy) on train and dev. monitor: as
    fit's (True or a HealthMonitor; its record is run.history.monitor)."""
    c = check_config(config)
    data = data or load_data(c)
    backend.manual_seed(int(c["seed"]))
    model = build_model(c, data.in_features, data.num_classes)
    opt = build_optimizer(c, model.parameters())
    history = fit(model, F.cross_entropy, opt, data.train, val_data=data.dev, epochs=int(c["epochs"]),
                  batch_size=int(c["batch_size"]), metrics=("accuracy",), seed=int(c["seed"]),
                  verbose=verbose, callbacks=callbacks, monitor=monitor)
    return TrainedRun(c, model, history, _metrics(model, data), data.standardizer)


def babysit_config(config: dict, directory, verbose: int = 1, print_fn=print, **kw):
    """Train the config's model as a panda (gradwise.search.babysit: a checkpoint per epoch,
    rollbacks of diverging epochs with a smaller learning rate, directory/control.json to change
    the learning rate while it trains); returns (TrainedRun, BabysitResult)."""
    from .panda import babysit

    c = check_config(config)
    data = load_data(c)
    backend.manual_seed(int(c["seed"]))
    model = build_model(c, data.in_features, data.num_classes)
    opt = build_optimizer(c, model.parameters())
    result = babysit(model, F.cross_entropy, opt, data.train, data.dev, epochs=int(c["epochs"]),
                     directory=directory, batch_size=int(c["batch_size"]), seed=int(c["seed"]),
                     verbose=verbose, print_fn=print_fn, **kw)
    return TrainedRun(c, model, result, _metrics(model, data), data.standardizer), result


def _metrics(model, data: Data) -> dict:
    metrics = {}
    for split, (X, y) in (("train", data.train), ("dev", data.dev)):
        r = evaluate(model, F.cross_entropy, (X, y), batch_size=1024)
        metrics[f"{split}_loss"] = float(r["loss"])
        metrics[f"{split}_error"] = 1.0 - float(r["accuracy"])
    return metrics


def objective(config: dict, seed: int, metric: str = "dev_loss") -> dict:
    """The built-in search objective: train the config with `seed` and score it on `metric`
    (lower is better). Returns {'score': ..., 'seed': seed, **metrics}."""
    if metric not in METRICS:
        raise ValueError(f"objective: metric must be one of {METRICS}, got {metric!r}")
    run = train_config({**config, "seed": int(seed)})
    return {"score": run.metrics[metric], **run.metrics}


def read_config(path) -> dict:
    """A config from a JSON file: a plain {key: value} config, or the {"config": {...}, ...}
    file that SearchResult.save_best writes. Checked against DEFAULTS."""
    try:
        with open(path) as f:
            obj = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if isinstance(obj, dict) and isinstance(obj.get("config"), dict):
        obj = obj["config"]
    try:
        return check_config(obj)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None


def save_run(run: TrainedRun, path) -> None:
    """One gradwise.save archive (npz, atomic): the model's state dict, the config as JSON, the
    metrics and the standardizer's statistics; load_run rebuilds the model from it."""
    obj = {"model": run.model.state_dict(), "config": json.dumps(run.config, sort_keys=True),
           "metrics": dict(run.metrics)}
    if run.standardizer is not None:
        obj["standardizer"] = run.standardizer.state_dict()
    io.save(obj, path)


def load_run(path):
    """(model, config, standardizer) from a file save_run wrote (nothing is unpickled)."""
    obj = io.load(path)
    if not isinstance(obj, dict) or "model" not in obj or "config" not in obj:
        raise ValueError(f"load_run: '{path}' is not a model saved by `gradwise train` "
                         "(no 'model'/'config' entry)")
    config = check_config(json.loads(obj["config"]))
    state = obj["model"]
    first, last = state["0.W"], state[list(state)[-2]]  # the first and the output Linear
    model = build_model(config, first.shape[1], last.shape[0])
    model.load_state_dict(state)
    std = Standardizer().load_state_dict(obj["standardizer"]) if "standardizer" in obj else None
    return model, config, std
