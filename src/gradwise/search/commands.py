"""What `gradwise search` and `gradwise train` do; the click wrappers in gradwise.cli only parse
the options and call these with an `echo` function.

    gradwise search [SPACE.json] --dataset moons --trials 20 --out runs/search
        -> runs/search/trials.json, search.png, best.json
    gradwise train runs/search/best.json --out runs/train [--monitor] [--babysit]
        -> runs/train/model.npz (and health.png with --monitor; epoch checkpoints and
           control.json with --babysit)
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from ..io import prepare_output
from .recipe import METRICS, babysit_config, check_config, objective, read_config, save_run, train_config
from .search import coarse_to_fine, random_search
from .space import IntUniform, LogUniform, OneMinusLogUniform, describe, sample, space_from_dict

__all__ = ["DEFAULT_SPACE", "SearchSettings", "run_search", "run_train", "read_space"]

# What `gradwise search` tunes when no space file is given: the three hyperparameters the course
# ranks first (the learning rate, then momentum's beta and the number of hidden units).
DEFAULT_SPACE = {
    "lr": LogUniform(1e-4, 1.0),
    "beta1": OneMinusLogUniform(0.8, 0.999),
    "hidden": IntUniform(8, 64),
}


def read_space(path) -> dict:
    """A search space from JSON: {"lr": {"loguniform": [0.0001, 1]}, "epochs": 30, ...}."""
    try:
        with open(path) as f:
            d = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    try:
        return space_from_dict(d)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None


@dataclass
class SearchSettings:
    """How `gradwise search` searches: on `dataset` (when given, over the space's own
    'dataset'; else that, else moons), `trials` per round for `rounds` rounds (coarse to fine:
    each round zooms the ranges around the `top` best trials so far), minimizing `metric`;
    trials seeded from `seed`, run by `executor` ('process' with `workers`, 'ray' on
    `ray_address`, 'serial'); the files written to the folder `out`."""

    dataset: str | None = None
    trials: int = 20
    rounds: int = 1
    top: int = 5
    seed: int = 0
    metric: str = "dev_loss"
    executor: str = "process"
    workers: int | None = None
    ray_address: str | None = None
    out: str = "runs/search"


def run_search(space: dict, settings: SearchSettings | None = None, echo=print):
    """Search `space` (keys of the recipe's config; fixed values allowed) as `settings` say;
    write trials.json, search.png and best.json to settings.out; return the SearchResult."""
    s = settings or SearchSettings()
    if s.metric not in METRICS:
        raise ValueError(f"search: metric must be one of {METRICS}, got {s.metric!r}")
    space = {"dataset": "moons", **space}
    if s.dataset is not None:
        space["dataset"] = s.dataset
    check_config(sample(space, np.random.default_rng(0)))  # a bad key fails now, not in a worker
    out = prepare_output(s.out, folder=True, who="gradwise search --out")  # before the trials
    echo(f"Searching {s.trials} trial(s) x {s.rounds} round(s) on {space['dataset']}, minimizing "
         f"{s.metric}, executor {s.executor}:\n"
         + "\n".join("  " + line for line in describe(space).splitlines()))
    result = _search(space, s)
    result.save(out / "trials.json")
    result.plot(out / "search.png", title=f"{space['dataset']}: {s.metric} vs each hyperparameter")
    result.save_best(out / "best.json")
    echo(result.table(10))
    b = result.best
    echo(f"best: trial {b.index}, {s.metric} {b.score:.4g}: " +
         ", ".join(f"{k}={_short(b.config[k])}" for k in space if k in b.config and k != "dataset"))
    echo(f"wrote {out / 'trials.json'}, {out / 'search.png'}, {out / 'best.json'}\n"
         f"train it: gradwise train {out / 'best.json'}")
    return result


def _search(space: dict, s: SearchSettings):
    fn = functools.partial(objective, metric=s.metric)
    kw = dict(seed=s.seed, mode="min", executor=s.executor, workers=s.workers,
              ray_address=s.ray_address)
    if s.rounds > 1:
        return coarse_to_fine(fn, space, rounds=s.rounds, n_trials=s.trials, top=s.top, **kw)
    return random_search(fn, space, n_trials=s.trials, **kw)


def run_train(config_path, out="runs/train", monitor: bool = False, babysit: bool = False,
              human_error=None, verbose: int = 1, echo=print):
    """Train the model CONFIG describes, save it to out/model.npz, print its metrics and the
    bias/variance diagnosis; return the TrainedRun."""
    from ..diagnose import diagnose
    from ..train import HealthMonitor

    config = read_config(config_path)
    out = prepare_output(out, folder=True, who="gradwise train --out")  # before the training
    echo("Training " + ", ".join(f"{k}={_short(v)}" for k, v in config.items()))
    if babysit:
        run, result = babysit_config(config, out, verbose=verbose, print_fn=echo)
        echo(f"checkpoints in {out}/ (edit {out / 'control.json'} to change the learning rate "
             f"while it trains)")
    else:
        mon = HealthMonitor(print_fn=echo, verbose=verbose) if monitor else False
        run = train_config(config, verbose=verbose, monitor=mon)
        if monitor:
            echo(mon.report())
            echo(f"health plot: {mon.plot(out / 'health.png')}")
    save_run(run, out / "model.npz")
    m = run.metrics
    echo(f"train loss {m['train_loss']:.4f}, error {m['train_error']:.2%}; "
         f"dev loss {m['dev_loss']:.4f}, error {m['dev_error']:.2%}")
    echo(str(diagnose(m["train_error"], m["dev_error"], human_error)))
    echo(f"saved {out / 'model.npz'}")
    return run


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
